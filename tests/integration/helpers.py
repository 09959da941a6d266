"""Start and stop the real programs for integration tests: by PID, always in a finally."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM a process this test started, SIGKILL if it lingers; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def start_collector(tmp_path: Path, listen: str = "127.0.0.1:0", *extra: str) -> tuple[subprocess.Popen, str]:
    """A real `headcount-collector serve` on loopback; its log is tmp_path/collector.log."""
    ready = tmp_path / "collector.addr"
    ready.unlink(missing_ok=True)
    log = tmp_path / "collector.log"
    with open(log, "ab") as log_file:   # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "headcount.collector", "serve", "--db", str(tmp_path / "headcount.db"),
             "--listen", listen, "--ready-file", str(ready), *extra],
            stdout=subprocess.DEVNULL, stderr=log_file,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text().strip():
            return process, ready.read_text().strip()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    stop(process)
    raise AssertionError(f"collector did not start: {log.read_text()[-2000:]}")


def write_agent_config(path: Path, *, site: str, collector: str, state_dir: Path,
                       interface: str | None = None, subnet: str | None = None,
                       hostfacts: bool = True, scan_interval: float = 600, heartbeat_interval: float = 30) -> Path:
    lines = [
        "[agent]",
        f"site = {json.dumps(site)}",
        f"id = {json.dumps(site + '-agent')}",
        f"collector = {json.dumps(collector)}",
        f"state_dir = {json.dumps(str(state_dir))}",
        f"scan_interval = {scan_interval}",
        f"heartbeat_interval = {heartbeat_interval}",
        "",
        "[arp]",
    ]
    if subnet:
        lines += [f"interface = {json.dumps(interface)}", f"subnets = [{json.dumps(subnet)}]"]
    else:
        lines += ["enabled = false"]
    lines += ["", "[hostfacts]", f"enabled = {'true' if hostfacts else 'false'}", ""]
    path.write_text("\n".join(lines))
    return path


def start_agent(config: Path, status: Path, log_path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "headcount.agent", "run", "--config", str(config), "--status-file", str(status), *extra],
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
    )


def read_status(status: Path) -> dict:
    try:
        return json.loads(status.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def query(collector: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headcount.collector.cli", *args, "--collector", collector],
                          capture_output=True, text=True, timeout=60)


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the process's peak resident set size so far, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")
