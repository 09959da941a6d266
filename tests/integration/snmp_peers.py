"""Real SNMP peers for tests and benchmarks, on loopback only, stopped by PID.

- `snmpsim`: snmpsim-command-responder serving .snmprec recordings (the
  LibreNMS corpus, or files a test writes); the community is the file name.
- `net_snmpd`: net-snmp's snmpd with a config the caller writes (v3 users).

Both bind 127.0.0.1 at a free high port and are waited for with a real GET.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from headcount.agent.errors import SnmpError
from headcount.agent.snmp.client import FastSession, Options, PysnmpSession, Target
from headcount.agent.snmp.credentials import Credential

from .helpers import free_port, stop

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = (REPO_ROOT / ".." / "shared" / "corpus" / "librenms").resolve()
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)


def free_udp_port() -> int:
    import socket

    for _ in range(20):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP port on 127.0.0.1")


def answers(port: int, credential: Credential, timeout_s: float = 0.5, host: str = "127.0.0.1") -> bool:
    async def ask() -> bool:
        session_type = FastSession if credential.version != "3" else PysnmpSession
        session = session_type(Target(host, port), credential, Options(timeout_s=timeout_s, retries=0))
        try:
            await session.get([SYS_DESCR])
            return True
        except SnmpError:
            return False
        finally:
            session.close()

    return asyncio.run(ask())


def _wait_until_answering(process: subprocess.Popen, port: int, credential: Credential, log: Path,
                          timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SNMP peer exited with {process.returncode}: {log.read_text()[-3000:]}")
        if answers(port, credential):
            return
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"SNMP peer did not answer on 127.0.0.1:{port} within {timeout_s}s: {log.read_text()[-3000:]}")


@contextmanager
def snmpsim(data_dir: Path, work_dir: Path, probe_community: str, port: int | None = None,
            timeout_s: float = 90) -> Iterator[int]:
    """snmpsim on 127.0.0.1:PORT serving every .snmprec in data_dir; yields the port."""
    port = port or free_udp_port()
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    cache = work_dir / "snmpsim-cache"
    cache.mkdir(parents=True, exist_ok=True)
    log = work_dir / f"snmpsim-{port}.log"
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [str(responder), f"--data-dir={data_dir}", f"--cache-dir={cache}",
             f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--log-level=error"],
            stdout=log_file, stderr=log_file, env=env,
        )
    try:
        _wait_until_answering(process, port, Credential("probe", "2c", community=probe_community), log, timeout_s)
        yield port
    finally:
        stop(process)


def snmpd_path() -> str | None:
    return shutil.which("snmpd") or (os.path.exists("/usr/sbin/snmpd") and "/usr/sbin/snmpd") or None


@contextmanager
def net_snmpd(work_dir: Path, config_lines: list[str], probe: Credential, port: int | None = None,
              timeout_s: float = 30) -> Iterator[int]:
    """net-snmp snmpd on 127.0.0.1:PORT with only the given config; yields the port."""
    binary = snmpd_path()
    if binary is None:
        raise RuntimeError("snmpd is not installed (Debian package snmpd)")
    port = port or free_udp_port()
    state = work_dir / f"snmpd-{port}"
    state.mkdir(parents=True, exist_ok=True)
    config = state / "snmpd.conf"
    config.write_text("\n".join([f"agentAddress udp:127.0.0.1:{port}", *config_lines]) + "\n")
    log = state / "snmpd.log"
    # snmpd keeps its persistent data in SNMP_PERSISTENT_DIR/snmpd.conf: a folder of
    # its own, or it would overwrite the config written above.
    persistent = state / "persistent"
    persistent.mkdir(exist_ok=True)
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persistent), "MIBS": "", "MIBDIRS": str(state)}
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [binary, "-f", "-C", "-c", str(config), "-Lf", str(log), "-p", str(state / "snmpd.pid"),
             "-M", str(state), "-m", ""],
            stdout=log_file, stderr=log_file, env=env,
        )
    try:
        _wait_until_answering(process, port, probe, log, timeout_s)
        yield port
    finally:
        stop(process)
