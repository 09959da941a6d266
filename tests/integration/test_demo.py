"""`headcount demo` end to end, its cleanup on Ctrl-C, and its refusal without root."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time

import pytest

from headcount.collector import demo

DEMO = [sys.executable, "-m", "headcount.collector.cli", "demo"]


def namespaces_with(tag: str) -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.startswith(f"{tag}-")]


@pytest.mark.netns
@pytest.mark.slow
def test_demo_builds_a_district_reports_it_and_cleans_up(tmp_path, netns_allowed, no_leftover_namespaces):
    done = subprocess.run([*DEMO, "--hosts", "20", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    tag = re.search(r"\(tag (\w+)\)", done.stdout).group(1)
    no_leftover_namespaces(tag)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "40 devices stored for 40 simulated hosts" in done.stdout
    assert re.search(r"school-1\s+20\b", done.stdout) and re.search(r"school-2\s+20\b", done.stdout)
    assert namespaces_with(tag) == []
    assert (tmp_path / "headcount.db").exists()   # --dir keeps the database


@pytest.mark.netns
@pytest.mark.slow
def test_ctrl_c_removes_every_namespace_and_process(tmp_path, netns_allowed, no_leftover_namespaces):
    process = subprocess.Popen([*DEMO, "--hosts", "20", "--hold", "--dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            output.append(line)
            if "Press Ctrl-C" in line or not line:
                break
        text = "".join(output)
        tag = re.search(r"\(tag (\w+)\)", text).group(1)
        no_leftover_namespaces(tag)
        pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
        assert "Press Ctrl-C" in text and len(pids) == 2 and namespaces_with(tag)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 130, rest
        assert namespaces_with(tag) == []
        for pid in pids:   # the agents it started are gone too
            assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_demo_without_root_says_what_it_needs(monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args([])) == 2
    assert "needs root" in capsys.readouterr().err
