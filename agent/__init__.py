"""School-side agent: discovers devices and streams observations to the collector."""
