"""`headcount-agent scan --once --json` on a real namespaced LAN: clean JSON on stdout, progress on a terminal."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager

import pytest

from headcount.agent.simlan import SimDistrict

pytestmark = pytest.mark.netns


@contextmanager
def _removed(path: str):
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_scan_once_json_is_clean_while_a_terminal_shows_progress(netns_allowed, no_leftover_namespaces):
    with SimDistrict(schools=1, hosts_per_school=6, first_subnet=120) as district:
        no_leftover_namespaces(district.tag)
        school = district.schools[0]
        controller, terminal = pty.openpty()   # stderr is a terminal, stdout is a pipe (as in `... | jq`)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "headcount.agent", "scan", "--once", "--json",
                 "--subnet", str(school.network), "--interface", school.bridge],
                stdout=subprocess.PIPE, stderr=terminal, text=True,
            )
            os.close(terminal)
            stdout, _ = process.communicate(timeout=120)
            seen_on_terminal = b""
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen_on_terminal += chunk
        finally:
            os.close(controller)
        assert process.returncode == 0
        document = json.loads(stdout)   # nothing but the JSON document on stdout
        arp = {(o["mac"], o["ip"]) for o in document["observations"] if o["kind"] == "arp"}
        assert arp == {(h.mac, h.ip) for h in school.hosts}
        assert [o["kind"] for o in document["observations"]].count("host") == 1
        assert document["errors"] == {}
        progress = seen_on_terminal.decode(errors="replace")
        # 254 host addresses less the agent's own (the bridge's), which is not asked.
        assert f"arp {school.network} on {school.bridge}: 253/253 addresses (100%)" in progress


def test_unprivileged_agent_needs_exactly_cap_net_raw(netns_allowed, no_leftover_namespaces):
    """What deploy/headcount-agent.service relies on: an unprivileged user with ambient
    CAP_NET_RAW can sweep; without it the scan fails with a message naming the capability."""
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*as_nobody, sys.executable, "-c", "import headcount.agent"], capture_output=True).returncode == 0:
        without_raw, with_raw = as_nobody, [*as_nobody, "--inh-caps=+net_raw", "--ambient-caps=+net_raw"]
    else:
        # The interpreter is not readable by another user (e.g. it lives under a
        # mode-700 /root): stay uid 0 but keep no capability, or only CAP_NET_RAW.
        # Capabilities, not the uid, are what the raw socket checks.
        without_raw, with_raw = ["setpriv", "--bounding-set=-all"], ["setpriv", "--bounding-set=-all,+net_raw"]
    # scapy caches into $HOME/.cache: give the restricted process a fresh home it may write.
    home = tempfile.mkdtemp(prefix="headcount-home-")
    os.chmod(home, 0o777)
    env = {"PATH": "/usr/bin:/bin", "HOME": home}
    with SimDistrict(schools=1, hosts_per_school=4, first_subnet=121) as district, _removed(home):
        no_leftover_namespaces(district.tag)
        school = district.schools[0]
        scan = [sys.executable, "-m", "headcount.agent", "scan", "--once", "--json", "--no-progress",
                "--subnet", str(school.network), "--interface", school.bridge]

        denied = subprocess.run([*without_raw, *scan], capture_output=True, text=True, timeout=120, env=env)
        assert denied.returncode == 1, denied.stderr
        document = json.loads(denied.stdout)
        assert "CAP_NET_RAW" in document["errors"]["arp"]
        assert [o["kind"] for o in document["observations"]] == ["host"]   # the other scanner still ran
        assert "Traceback" not in denied.stderr

        granted = subprocess.run([*with_raw, *scan], capture_output=True, text=True, timeout=120, env=env)
        assert granted.returncode == 0, granted.stderr
        found = {(o["mac"], o["ip"]) for o in json.loads(granted.stdout)["observations"] if o["kind"] == "arp"}
        assert found == {(h.mac, h.ip) for h in school.hosts}
