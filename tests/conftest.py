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
    """Fails the test if namespaces with its tag prefix outlive it; yields a checker."""
    tags: list[str] = []
    yield tags.append
    existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    leaked = [line.split()[0] for line in existing.splitlines() for tag in tags if line.startswith(f"{tag}-")]
    for name in leaked:  # remove them anyway so one failure does not poison the machine
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    assert not leaked, f"namespaces left behind: {leaked}"
