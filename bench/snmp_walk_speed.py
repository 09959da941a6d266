"""Walk speed: our v1/v2c fast path against net-snmp's snmpbulkwalk on the same agent, back to back.

    sudo .venv/bin/python bench/snmp_walk_speed.py [--interfaces 400] [--rounds 5] [--max-repetitions 25]

Builds a network namespace holding net-snmp's snmpd and a few hundred veth
interfaces (this kernel has no dummy driver), reached from the root
namespace over one veth pair on 198.18.200.0/24. Each round walks
ifTable + ifXTable three ways, one right after the other:

  net-snmp   snmpbulkwalk -v2c -Cr<R> (C; no MIBs loaded: -m "")
  ours       FastSession.walk in a fresh Python process (pure BER codec)
  pysnmp     pysnmp 7 bulk_walk_cmd, lookupMib=False (the engine's own path)

and prints varbinds/s and CPU per 1,000 varbinds for each, and the ratios
ours/net-snmp. The CPU clock of this machine drifts by up to 1.8x from minute
to minute, so only ratios within a round mean anything; the summary gives
their median. Our CPU is reported twice: around the walks only (the agent is
a long-running process) and for the whole child process, start-up included.

Targets (issue 4): throughput ratio >= 0.5; CPU per varbind <= 4x net-snmp's.
Everything it creates (namespace, links, snmpd) is removed on exit, even on
Ctrl-C. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2)
IF_X_TABLE = (1, 3, 6, 1, 2, 1, 31, 1, 1)
AGENT_IP = "198.18.200.2"
ROOT_IP = "198.18.200.1"
TARGET_RATIO = 0.5
TARGET_CPU = 4.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ip(*args: str, stdin: str | None = None) -> None:
    done = subprocess.run(["ip", *args], input=stdin, text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- worker modes (run in a fresh process)

def worker_ours(host: str, repetitions: int) -> None:
    from headcount.agent.snmp.client import FastSession, Options, Target
    from headcount.agent.snmp.credentials import Credential

    async def walk() -> int:
        session = FastSession(Target(host, 161), Credential("bench", "2c", community="public"),
                              Options(timeout_s=5, retries=1, max_repetitions=repetitions))
        total = 0
        for root in (IF_TABLE, IF_X_TABLE):
            result = await session.walk(root)
            if result.problem:
                raise SystemExit(f"walk failed: {result.problem}")
            total += len(result.rows)
        session.close()
        return total

    started_cpu, started = time.process_time(), time.perf_counter()
    count = asyncio.run(walk())
    print(json.dumps({"varbinds": count, "wall": time.perf_counter() - started,
                      "cpu": time.process_time() - started_cpu}))


def worker_pysnmp(host: str, repetitions: int) -> None:
    from pysnmp.hlapi.v3arch import asyncio as hl

    async def walk() -> int:
        engine = hl.SnmpEngine()
        target = await hl.UdpTransportTarget.create((host, 161), timeout=5, retries=1)
        total = 0
        for root in (IF_TABLE, IF_X_TABLE):
            async for error, status, _, varbinds in hl.bulk_walk_cmd(
                    engine, hl.CommunityData("public"), target, hl.ContextData(), 0, repetitions,
                    hl.ObjectType(hl.ObjectIdentity(root)), lookupMib=False, lexicographicMode=False):
                if error or status:
                    raise SystemExit(f"pysnmp walk failed: {error or status}")
                total += len(varbinds)
        engine.close_dispatcher()
        return total

    started_cpu, started = time.process_time(), time.perf_counter()
    count = asyncio.run(walk())
    print(json.dumps({"varbinds": count, "wall": time.perf_counter() - started,
                      "cpu": time.process_time() - started_cpu}))


# ---------------------------------------------------------------- the three measurements

def run_child(command: list[str], env: dict | None = None) -> tuple[str, float, float]:
    """(stdout, wall seconds, child CPU seconds) of one command."""
    before_cpu, before = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - before, children_cpu() - before_cpu
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout, wall, cpu


def measure_netsnmp(repetitions: int) -> dict:
    total, wall, cpu = 0, 0.0, 0.0
    for root in (IF_TABLE, IF_X_TABLE):
        out, w, c = run_child(["snmpbulkwalk", "-v2c", "-c", "public", "-On", f"-Cr{repetitions}", "-m", "",
                               "-t", "5", AGENT_IP, ".".join(map(str, root))], env={**os.environ, "MIBS": ""})
        total += sum(1 for line in out.splitlines() if line.startswith("."))
        wall, cpu = wall + w, cpu + c
    return {"varbinds": total, "wall": wall, "cpu": cpu}


def measure_python(mode: str, repetitions: int) -> dict:
    out, wall, cpu = run_child([sys.executable, __file__, mode, "--host", AGENT_IP,
                                "--max-repetitions", str(repetitions)])
    inner = json.loads(out.strip().splitlines()[-1])
    inner["process_wall"], inner["process_cpu"] = wall, cpu
    return inner


# ---------------------------------------------------------------- the lab

class Lab:
    def __init__(self, interfaces: int, work: Path):
        self.namespace = f"hcbench-{os.getpid()}"
        self.root_link = f"hcb{os.getpid() % 100000}r"
        self.interfaces = interfaces
        self.work = work
        self.snmpd: subprocess.Popen | None = None

    def build(self) -> None:
        log(f"building namespace {self.namespace} with {self.interfaces} extra interfaces ...")
        ip("netns", "add", self.namespace)
        ip("link", "add", self.root_link, "type", "veth", "peer", "name", "eth0", "netns", self.namespace)
        ip("addr", "add", f"{ROOT_IP}/24", "dev", self.root_link)
        ip("link", "set", self.root_link, "up")
        commands = ["link set lo up", f"addr add {AGENT_IP}/24 dev eth0", "link set eth0 up"]
        for pair in range(self.interfaces // 2):
            commands.append(f"link add va{pair} type veth peer name vb{pair}")
        ip("-n", self.namespace, "-batch", "-", stdin="\n".join(commands) + "\n")
        persistent = self.work / "persistent"
        persistent.mkdir()
        config = self.work / "snmpd.conf"
        config.write_text(f"agentAddress udp:{AGENT_IP}:161\nrocommunity public {ROOT_IP}/32\n")
        log("starting snmpd in the namespace ...")
        self.snmpd = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, shutil.which("snmpd") or "/usr/sbin/snmpd", "-f", "-C",
             "-c", str(config), "-Lf", str(self.work / "snmpd.log"), "-p", str(self.work / "snmpd.pid"),
             "-M", str(self.work), "-m", ""],
            env={**os.environ, "SNMP_PERSISTENT_DIR": str(persistent), "MIBS": ""},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0", "-m", "",
                                   AGENT_IP, "1.3.6.1.2.1.1.1.0"], capture_output=True)
            if done.returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError(f"snmpd did not answer: {(self.work / 'snmpd.log').read_text()[-1000:]}")

    def cleanup(self) -> None:
        if self.snmpd is not None and self.snmpd.poll() is None:
            self.snmpd.terminate()
            try:
                self.snmpd.wait(10)
            except subprocess.TimeoutExpired:
                self.snmpd.kill()
        subprocess.run(["ip", "link", "del", self.root_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)


def per_thousand(measure: dict, cpu_key: str = "cpu") -> float:
    return 1000 * measure[cpu_key] / measure["varbinds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interfaces", type=int, default=400, help="extra interfaces in the agent's IF-MIB (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="back-to-back rounds (default 5)")
    parser.add_argument("--max-repetitions", type=int, default=25, help="GETBULK max-repetitions for all (default 25)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every measurement as JSON")
    parser.add_argument("--host", default=AGENT_IP, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-pysnmp", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_ours(args.host, args.max_repetitions)
        return 0
    if args.worker_pysnmp:
        worker_pysnmp(args.host, args.max_repetitions)
        return 0
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    if not shutil.which("snmpbulkwalk"):
        print("needs net-snmp's tools (Debian packages snmp and snmpd)", file=sys.stderr)
        return 2

    rounds = []
    with tempfile.TemporaryDirectory(prefix="hc-walkbench-") as work:
        lab = Lab(args.interfaces, Path(work))
        previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            lab.build()
            for number in range(1, args.rounds + 1):
                net = measure_netsnmp(args.max_repetitions)
                ours = measure_python("--worker", args.max_repetitions)
                reference = measure_python("--worker-pysnmp", args.max_repetitions)
                counts = {net["varbinds"], ours["varbinds"], reference["varbinds"]}
                if len(counts) != 1:
                    raise RuntimeError(f"the walks disagree on the number of varbinds: net-snmp {net['varbinds']}, "
                                       f"ours {ours['varbinds']}, pysnmp {reference['varbinds']}")
                rounds.append({"net-snmp": net, "ours": ours, "pysnmp": reference})
                log(f"round {number}: {net['varbinds']} varbinds; net-snmp {net['wall']:.3f}s, "
                    f"ours {ours['wall']:.3f}s, pysnmp {reference['wall']:.3f}s")
        finally:
            lab.cleanup()
            signal.signal(signal.SIGTERM, previous)

    print(f"\nifTable + ifXTable of an snmpd with {args.interfaces + 2} interfaces, "
          f"max-repetitions {args.max_repetitions}, {len(rounds)} back-to-back rounds\n")
    header = (f"{'round':>5}  {'varbinds':>8}  {'net-snmp vb/s':>13}  {'ours vb/s':>10}  {'pysnmp vb/s':>11}  "
              f"{'net cpu/1k':>10}  {'ours cpu/1k':>11}  {'ours proc/1k':>12}  {'pysnmp cpu/1k':>13}  "
              f"{'thru ratio':>10}  {'cpu ratio':>9}  {'cpu ratio(proc)':>15}  {'pysnmp thru':>11}")
    print(header)
    ratios, cpu_ratios, proc_ratios, pysnmp_ratios, pysnmp_cpu = [], [], [], [], []
    for number, r in enumerate(rounds, 1):
        net, ours, ref = r["net-snmp"], r["ours"], r["pysnmp"]
        rate = lambda m: m["varbinds"] / m["wall"]   # noqa: E731
        ratio = rate(ours) / rate(net)
        cpu_ratio = per_thousand(ours) / per_thousand(net)
        proc_ratio = per_thousand(ours, "process_cpu") / per_thousand(net)
        ratios.append(ratio)
        cpu_ratios.append(cpu_ratio)
        proc_ratios.append(proc_ratio)
        pysnmp_ratios.append(rate(ref) / rate(net))
        pysnmp_cpu.append(per_thousand(ref) / per_thousand(net))
        print(f"{number:>5}  {net['varbinds']:>8}  {rate(net):>13,.0f}  {rate(ours):>10,.0f}  {rate(ref):>11,.0f}  "
              f"{1000 * per_thousand(net):>8.1f}ms  {1000 * per_thousand(ours):>9.1f}ms  "
              f"{1000 * per_thousand(ours, 'process_cpu'):>10.1f}ms  {1000 * per_thousand(ref):>11.1f}ms  "
              f"{ratio:>10.2f}  {cpu_ratio:>9.2f}  {proc_ratio:>15.2f}  {rate(ref) / rate(net):>11.2f}")
    median = statistics.median
    print(f"\nmedian throughput ratio ours/net-snmp: {median(ratios):.2f}  (target >= {TARGET_RATIO}) "
          f"{'PASS' if median(ratios) >= TARGET_RATIO else 'FAIL'}")
    print(f"median CPU per varbind ours/net-snmp: {median(cpu_ratios):.2f}x  (target <= {TARGET_CPU}x) "
          f"{'PASS' if median(cpu_ratios) <= TARGET_CPU else 'FAIL'}")
    print(f"  (whole process, interpreter start-up included: {median(proc_ratios):.2f}x)")
    print(f"reference, pysnmp bulk_walk_cmd/net-snmp: throughput {median(pysnmp_ratios):.2f}, "
          f"CPU per varbind {median(pysnmp_cpu):.1f}x")
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
