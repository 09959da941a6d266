"""Scanners: each returns observations and never sends them."""
