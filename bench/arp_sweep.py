"""ARP sweep speed: the agent against arp-scan at the same packet rate, on the same namespaced /20.

    sudo .venv/bin/python bench/arp_sweep.py [--hosts 240] [--prefix 20] [--rate 1000] [--rounds 3]

Builds a bridge in the root namespace holding the first address of
198.18.16.0/PREFIX (inside 198.18.0.0/15), and HOSTS network namespaces
attached to it by veth, each a real Linux host answering ARP at an address
spread across the subnet. Then, back to back for each round:

  agent     headcount-agent scan --once --json --subnet CIDR --interface BRIDGE --rate PPS --no-hostfacts
  arp-scan  arp-scan --interface=BRIDGE --interval=<1e6/PPS>u CIDR

and prints hosts found and wall time for each, and the ratio agent/arp-scan
(target for a /20 with >= 200 live hosts: no worse than 1.0x). Both keep
their own default retry policy (the agent: 1 extra round for silent
addresses, then a late-reply wait of four slowest round trips, at most 2 s;
arp-scan: 2 attempts per host, 500 ms timeout); the summary says so. `--prefix 16` times a /16 (agent only with
`--agent-only`, as arp-scan would take as long). Everything it creates is
removed on exit, even on Ctrl-C. Needs root, iproute2 and arp-scan.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ip_batch(commands: list[str], namespace: str | None = None) -> None:
    argv = ["ip"] + (["-n", namespace] if namespace else []) + ["-batch", "-"]
    done = subprocess.run(argv, input="\n".join(commands) + "\n", text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()[:500]}")


class Lan:
    def __init__(self, network: ipaddress.IPv4Network, hosts: int):
        self.tag = f"hcarp{os.getpid() % 100000}"
        self.network = network
        self.bridge = f"{self.tag}b"
        self.gateway = network.network_address + 1
        usable = network.num_addresses - 3
        step = max(1, usable // hosts)
        self.hosts = [(f"{self.tag}-h{i}", str(network.network_address + 2 + i * step), f"{self.tag}v{i}")
                      for i in range(hosts)]

    def build(self) -> None:
        log(f"building {len(self.hosts)} namespaced hosts on {self.network} ...")
        root = [f"link add {self.bridge} type bridge", f"addr add {self.gateway}/{self.network.prefixlen} dev {self.bridge}",
                f"link set {self.bridge} up"]
        for index, (namespace, _, veth) in enumerate(self.hosts):
            mac = f"02:aa:{(index >> 16) & 255:02x}:{(index >> 8) & 255:02x}:{index & 255:02x}:01"
            root += [f"netns add {namespace}",
                     f"link add {veth} type veth peer name eth0 address {mac} netns {namespace}",
                     f"link set {veth} master {self.bridge} up"]
        ip_batch(root)
        for namespace, address, _ in self.hosts:
            ip_batch(["link set lo up", f"addr add {address}/{self.network.prefixlen} dev eth0", "link set eth0 up"],
                     namespace)

    def cleanup(self) -> None:
        for namespace, _, veth in self.hosts:
            subprocess.run(["ip", "link", "del", veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def run_agent(lan: Lan, rate: float) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "headcount-agent"), "scan", "--once", "--json",
                           "--subnet", str(lan.network), "--interface", lan.bridge, "--rate", str(rate),
                           "--no-hostfacts", "--no-progress"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"agent scan failed: {done.stderr[-800:]}")
    found = {o["ip"] for o in json.loads(done.stdout)["observations"] if o["kind"] == "arp"}
    return wall, len(found & {address for _, address, _ in lan.hosts})


def run_arp_scan(lan: Lan, rate: float) -> tuple[float, int]:
    interval = max(1, round(1e6 / rate))
    started = time.perf_counter()
    done = subprocess.run(["arp-scan", f"--interface={lan.bridge}", f"--interval={interval}u", "--quiet",
                           "--plain", str(lan.network)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"arp-scan failed: {done.stderr[-800:]}")
    found = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    return wall, len(found & {address for _, address, _ in lan.hosts})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=240, help="live namespaced hosts (default 240)")
    parser.add_argument("--prefix", type=int, default=20, help="size of the swept subnet (default /20)")
    parser.add_argument("--rate", type=float, default=1000, help="packets per second for both (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="back-to-back rounds (default 3)")
    parser.add_argument("--agent-only", action="store_true", help="skip arp-scan (for a /16)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces, raw sockets)", file=sys.stderr)
        return 2
    if not args.agent_only and not shutil.which("arp-scan"):
        print("needs arp-scan (Debian package arp-scan)", file=sys.stderr)
        return 2
    network = ipaddress.IPv4Network(f"198.18.16.0/{args.prefix}", strict=False)
    if not network.subnet_of(ipaddress.IPv4Network("198.18.0.0/15")):
        print(f"{network} is outside 198.18.0.0/15", file=sys.stderr)
        return 2
    lan = Lan(network, args.hosts)
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = []
    try:
        lan.build()
        for number in range(1, args.rounds + 1):
            agent = run_agent(lan, args.rate)
            reference = None if args.agent_only else run_arp_scan(lan, args.rate)
            results.append((agent, reference))
            log(f"round {number}: agent {agent[1]} hosts in {agent[0]:.2f}s"
                + ("" if reference is None else f"; arp-scan {reference[1]} hosts in {reference[0]:.2f}s"))
    finally:
        lan.cleanup()
        signal.signal(signal.SIGTERM, previous)
    print(f"\n{network} ({network.num_addresses:,} addresses), {len(lan.hosts)} live hosts, {args.rate:g} packets/s\n")
    print(f"{'round':>5}  {'agent hosts':>11}  {'agent s':>8}  {'arp-scan hosts':>14}  {'arp-scan s':>10}  {'ratio':>6}")
    ratios = []
    for number, (agent, reference) in enumerate(results, 1):
        if reference is None:
            print(f"{number:>5}  {agent[1]:>11}  {agent[0]:>8.2f}")
            continue
        ratios.append(agent[0] / reference[0])
        print(f"{number:>5}  {agent[1]:>11}  {agent[0]:>8.2f}  {reference[1]:>14}  {reference[0]:>10.2f}  {ratios[-1]:>6.2f}")
    if ratios:
        median = statistics.median(ratios)
        print(f"\nmedian time ratio agent/arp-scan: {median:.2f} (target <= 1.0) {'PASS' if median <= 1.0 else 'FAIL'}")
    print("retry policies, each tool's defaults: agent 2 rounds (1 retry) and a late-reply wait of 4x the slowest "
          "round trip, at most 2 s; arp-scan 2 attempts per host, 500 ms timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
