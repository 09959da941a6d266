"""Passive listening footprint: the agent's steady-state RSS and CPU, against tcpdump on the same traffic.

    sudo .venv/bin/python bench/passive_footprint.py [--seconds 60] [--pps 200] [--hosts 1000]

Builds the namespaced DHCP LAN of the tests (tests/integration/dhcp_lan.py:
a bridge, dnsmasq in one namespace), adds one traffic namespace that sends,
for the whole run, what a busy school LAN broadcasts: ARP requests from a
pool of HOSTS devices at PPS frames/s, and a DHCP REQUEST (hostname, vendor
class, client id, request list) from one of them every tenth frame. A real
collector runs on 127.0.0.1 and a real agent (`headcount-agent run`, passive
listening only: no sweep, no mDNS, no host facts) listens on the bridge and
delivers what it hears. Beside it, on the same bridge and the same traffic,
runs the peer:

  tcpdump -i BRIDGE -w /dev/null 'arp or (udp and (port 67 or port 68))'

After a warm-up, both processes are sampled for SECONDS: RSS (mean and max)
and CPU (share of one core). Then a flood phase sends random-MAC ARP at
FLOOD_PPS for 10 s and the agent's peak RSS is printed against its cap
(passive.max_tracked_devices). Everything it creates is removed on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TRAFFIC_NETWORK = "198.18.202"   # sender addresses of the simulated devices (198.18.0.0/15)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(interface: str, seconds: float, pps: float, hosts: int, seed: int, random_macs: bool) -> None:
    """Runs inside the traffic namespace: a paced mix of ARP requests and DHCP REQUESTs."""
    from tests.integration.dhcp_lan import arp_request, bootp, ipv4_udp_frame

    namespace = subprocess.run(["ip", "netns", "identify", str(os.getpid())], capture_output=True,
                               text=True).stdout.strip()
    if not namespace:
        raise SystemExit("generate runs only inside a benchmark namespace (ip netns exec NS ...)")
    rng = random.Random(seed)
    pool = [bytes([0x3c, 0x22, 0xfb, index >> 16 & 255, index >> 8 & 255, index & 255]) for index in range(hosts)]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((interface, 0))
    target = socket.inet_aton("198.18.200.1")
    started = time.monotonic()
    index = 0
    while time.monotonic() - started < seconds:
        due = started + index / pps
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if random_macs:
            mac = bytearray(rng.randbytes(6))
            mac[0] &= 0xFE
            mac = bytes(mac)
        else:
            mac = pool[rng.randrange(hosts)]
        if index % 10 == 9:
            host = f"lab-{mac[-2]:02x}{mac[-1]:02x}".encode()
            options = (b"\x35\x01\x03" + b"\x0c" + bytes([len(host)]) + host + b"\x3c\x08MSFT 5.0"
                       + b"\x3d\x07\x01" + mac + b"\x37\x0e" + bytes([1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121,
                                                                    249, 252]) + b"\xff")
            sock.send(ipv4_udp_frame(mac, bootp(mac, options)))
        else:
            sender = socket.inet_aton(f"{TRAFFIC_NETWORK}.{2 + (mac[-1] % 250)}")
            sock.send(arp_request(mac, sender, target))
        index += 1
    sock.close()


class Sampler:
    def __init__(self, pid: int):
        import psutil

        self.process = psutil.Process(pid)
        self.rss: list[int] = []
        self.cpu_start = self._cpu()
        self.wall_start = time.monotonic()

    def _cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def sample(self) -> None:
        self.rss.append(self.process.memory_info().rss)

    def restart(self) -> None:
        self.rss.clear()
        self.cpu_start = self._cpu()
        self.wall_start = time.monotonic()

    def cpu_share(self) -> float:
        return (self._cpu() - self.cpu_start) / (time.monotonic() - self.wall_start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="measured steady-state seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=15, help="seconds before measuring (default 15)")
    parser.add_argument("--pps", type=float, default=200, help="broadcast frames per second on the LAN (default 200)")
    parser.add_argument("--hosts", type=int, default=1000, help="devices in the traffic pool (default 1000)")
    parser.add_argument("--flood-pps", type=float, default=5000, help="random-MAC flood rate (default 5000)")
    parser.add_argument("--generate", nargs=6, metavar=("IF", "SECONDS", "PPS", "HOSTS", "SEED", "RANDOM"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        interface, seconds, pps, hosts, seed, random_macs = args.generate
        generate(interface, float(seconds), float(pps), int(hosts), int(seed), random_macs == "1")
        return 0
    if os.geteuid() != 0:
        print("needs root (network namespaces, raw sockets)", file=sys.stderr)
        return 2
    from tests.integration.dhcp_lan import DhcpLan
    from tests.integration.helpers import start_collector, stop

    workdir = Path(tempfile.mkdtemp(prefix="headcount-passive-bench-"))
    processes: list[subprocess.Popen] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with DhcpLan(workdir) as lan:
            sender = lan.add_host("gen", "da:a1:19:ca:00:01")
            collector, address = start_collector(workdir)
            processes.append(collector)
            config = workdir / "agent.toml"
            config.write_text("\n".join([
                "[agent]", 'site = "bench-school"', 'id = "bench-agent"', f'collector = "{address}"',
                f'state_dir = "{workdir / "state"}"', "scan_interval = 3600", "",
                "[arp]", "enabled = false", "", "[hostfacts]", "enabled = false", "",
                "[mdns]", "enabled = false", "",
                "[passive]", f'interfaces = ["{lan.bridge}"]', "flush_interval = 2", "",
            ]) + "\n")
            agent = subprocess.Popen([str(Path(sys.executable).parent / "headcount-agent"), "run", "--config",
                                      str(config), "--status-file", str(workdir / "status.json")],
                                     stdout=subprocess.DEVNULL, stderr=open(workdir / "agent.log", "ab"))
            processes.append(agent)
            peer = subprocess.Popen(["tcpdump", "-i", lan.bridge, "-w", "/dev/null", "-s", "600", "-U",
                                     "arp or (udp and (port 67 or port 68))"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(peer)
            total = args.warmup + args.seconds
            traffic = lan.start_in(sender, [sys.executable, str(Path(__file__).resolve()), "--generate", "eth0",
                                            str(total), str(args.pps), str(args.hosts), "7", "0"], log_name="gen")
            ours, theirs = Sampler(agent.pid), Sampler(peer.pid)
            log(f"warming up {args.warmup:.0f}s, then measuring {args.seconds:.0f}s at {args.pps:g} frames/s ...")
            time.sleep(args.warmup)
            ours.restart()
            theirs.restart()
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                ours.sample()
                theirs.sample()
                time.sleep(1)
            steady = (ours.cpu_share(), theirs.cpu_share(), list(ours.rss), list(theirs.rss))
            traffic.wait(timeout=60)
            log(f"flooding random MACs at {args.flood_pps:g} frames/s for 10s ...")
            ours.restart()
            flood = lan.start_in(sender, [sys.executable, str(Path(__file__).resolve()), "--generate", "eth0",
                                          "10", str(args.flood_pps), "1", "9", "1"], log_name="flood")
            while flood.poll() is None:
                ours.sample()
                time.sleep(0.5)
            time.sleep(3)
            ours.sample()
            flood_cpu, flood_rss = ours.cpu_share(), max(ours.rss)
            status = json.loads((workdir / "status.json").read_text()) if (workdir / "status.json").exists() else {}
            for process in (peer, agent):
                stop(process)
    finally:
        for process in reversed(processes):
            stop(process)
        signal.signal(signal.SIGTERM, previous)
    cpu_ours, cpu_peer, rss_ours, rss_peer = steady
    mib = 1 << 20
    print(f"\npassive listening, {args.pps:g} broadcast frames/s (ARP from {args.hosts} devices, every tenth a DHCP "
          f"REQUEST), {args.seconds:.0f}s measured after {args.warmup:.0f}s warm-up\n")
    print(f"{'':<10} {'RSS mean MiB':>12} {'RSS max MiB':>12} {'CPU % of a core':>16}")
    print(f"{'agent':<10} {statistics.mean(rss_ours) / mib:>12.1f} {max(rss_ours) / mib:>12.1f} {100 * cpu_ours:>16.2f}")
    print(f"{'tcpdump':<10} {statistics.mean(rss_peer) / mib:>12.1f} {max(rss_peer) / mib:>12.1f} {100 * cpu_peer:>16.2f}")
    print(f"\nratio agent/tcpdump: RSS {statistics.mean(rss_ours) / statistics.mean(rss_peer):.1f}x, "
          f"CPU {cpu_ours / cpu_peer if cpu_peer else float('inf'):.1f}x")
    print(f"flood of random MACs at {args.flood_pps:g}/s for 10s: agent peak RSS {flood_rss / mib:.1f} MiB, "
          f"CPU {100 * flood_cpu:.1f}% of a core")
    passive = (status.get("passive") or {}).get("stats", {})
    if passive:
        print("listener counters: " + ", ".join(f"{key} {value}" for key, value in sorted(passive.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
