"""`headcount demo` end to end, its cleanup on Ctrl-C, and its refusal without root."""

from __future__ import annotations

import argparse
import os
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def interrupt_and_wait(process: subprocess.Popen, timeout: float = 60) -> None:
    """Ctrl-C as a terminal sends it (to the whole process group), so the demo can clean up; kill only as a last resort."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.netns
@pytest.mark.slow
def test_demo_builds_a_district_reports_it_and_cleans_up(tmp_path, netns_allowed, no_leftover_namespaces):
    tag = f"hd{os.getpid() % 10000:04d}"
    no_leftover_namespaces(tag)
    process = subprocess.Popen([*DEMO, "--hosts", "20", "--dir", str(tmp_path), "--tag", tag],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        interrupt_and_wait(process)
    assert process.returncode == 0, output
    assert f"(tag {tag})" in output
    assert "40 devices stored for 40 simulated hosts" in output
    # With the example standards (the default), the agents report the registry's first school ids as sites.
    assert re.search(r"lincoln-elementary\s+20\b", output) and re.search(r"washington-elementary\s+20\b", output)
    # Then the district evaluation against the example standards, and its flags.
    assert "$ headcount-collector evaluate --db " in output
    assert "uniformity score" in output and "Lincoln ES: score" in output and "Washington ES: score" in output
    assert "$ headcount-collector flags --db " in output and "Open flags:" in output
    assert output.rstrip().endswith("is gone.")
    assert namespaces_with(tag) == []
    assert (tmp_path / "headcount.db").exists()   # --dir keeps the database


@pytest.mark.netns
@pytest.mark.slow
def test_ctrl_c_removes_every_namespace_and_process(tmp_path, netns_allowed, no_leftover_namespaces):
    tag = f"hc{os.getpid() % 10000:04d}"
    no_leftover_namespaces(tag)
    process = subprocess.Popen([*DEMO, "--hosts", "20", "--hold", "--dir", str(tmp_path), "--tag", tag],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            output.append(line)
            if "Press Ctrl-C" in line or not line:
                break
        text = "".join(output)
        pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
        assert "Press Ctrl-C" in text, text
        assert len(pids) == 3 and all(alive(pid) for pid in pids), "a collector and two agents"
        assert len(namespaces_with(tag)) == 40
        os.killpg(process.pid, signal.SIGINT)   # what Ctrl-C in a terminal does
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 130, rest
        assert "interrupted" in rest and rest.rstrip().endswith("is gone.")
        assert namespaces_with(tag) == []
        for pid in pids:   # the collector and agents it started are gone too
            assert not alive(pid), f"process {pid} survived"
    finally:
        interrupt_and_wait(process)


def test_demo_without_root_says_what_it_needs(monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args([])) == 2
    assert "needs root" in capsys.readouterr().err


def test_demo_refuses_bad_standards_before_building_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("headcount.agent.simlan.can_build", lambda: (True, ""))
    monkeypatch.setattr("headcount.agent.simlan.SimDistrict",
                        lambda *a, **k: pytest.fail("built a district despite bad standards"))
    (tmp_path / "schools.toml").write_text("[[schools]]\nid = 3\n")
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args(["--standards", str(tmp_path)])) == 2
    assert "schools" in capsys.readouterr().err


def test_demo_defaults_to_the_example_standards_and_none_turns_them_off():
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert parser.parse_args([]).standards == str(demo.EXAMPLE_STANDARDS)
    assert parser.parse_args(["--standards", "none"]).standards == "none"


@pytest.mark.parametrize("tag", ["X", "toolongtag", "a-b", "1ab"])
def test_demo_rejects_a_tag_that_would_break_interface_names(tag):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--tag", tag])
