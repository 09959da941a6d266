"""Shared test fixtures.

Tests marked `netns` need root and Linux network namespaces. Where they cannot
have them they skip and say why, except under CI=true, where a skip would hide
a broken pipeline, so they fail instead.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from headcount.agent.simlan import can_build


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def netns_allowed() -> None:
    ok, why = can_build()
    if ok:
        return
    if _in_ci():
        pytest.fail(f"CI=true but namespaced tests cannot run: {why}")
    pytest.skip(f"namespaced test skipped: {why}")


@pytest.fixture
def no_leftover_namespaces():
    """Yields register(tag); afterwards fails the test if namespaces or links with that prefix remain."""
    tags: list[str] = []
    yield tags.append
    if not tags:
        return
    existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    leaked = [line.split()[0] for line in existing.splitlines() for tag in tags if line.startswith(f"{tag}-")]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    leaked_links = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()
                    for tag in tags if line.split(":")[1].strip().startswith(tag)]
    # Remove them anyway, so one failure does not poison the machine for the next test.
    for name in leaked:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    for name in leaked_links:
        subprocess.run(["ip", "link", "del", name], capture_output=True)
    assert not leaked and not leaked_links, f"left behind: namespaces {leaked}, links {leaked_links}"
