"""The collector over real gRPC on 127.0.0.1: a real server, a real SQLite file, real client channels, no mocks.

In-process tests run `start_server` on port 0 inside `asyncio.run`; the
command-line tests start `headcount-collector serve` and `headcount` as
subprocesses and stop only the PIDs they started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from headcount.collector.server import start_server
from headcount.collector.store import Store
from headcount.v1 import inventory_pb2 as pb
from headcount.v1 import inventory_pb2_grpc as pb_grpc

from .helpers import start_collector, stop

pytestmark = pytest.mark.timeout(60)

AT = datetime(2026, 11, 22, 8, 30, tzinfo=timezone.utc)
SCHOOL = "lincoln-elementary"
BIN = Path(sys.executable).parent


def command(name: str, module: str) -> list[str]:
    """The installed console script, or `python -m` when this interpreter has none next to it."""
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


COLLECTOR = command("headcount-collector", "headcount.collector")
HEADCOUNT = command("headcount", "headcount.collector.cli")


# ---------------------------------------------------------------- messages an agent sends


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def hello(agent_id: str = "lincoln-agent", site: str = SCHOOL) -> pb.AgentMessage:
    return pb.AgentMessage(hello=pb.Hello(agent=pb.AgentIdentity(
        agent_id=agent_id, site=site, version="0.1.0", hostname="lab-pc", scanners=["arp", "hostfacts"])))


def arp(mac: str, ip: str, at: datetime = AT, vendor: str = "Apple, Inc.") -> pb.Observation:
    return pb.Observation(observed_at=stamp(at), scanner="arp",
                          arp=pb.ArpSighting(mac=mac, ip=ip, vendor=vendor, interface="eth0"))


def host_facts() -> pb.Observation:
    return pb.Observation(observed_at=stamp(AT), scanner="hostfacts", host=pb.HostFacts(
        hostname="lab-pc", os="Linux", interfaces=[pb.HostInterface(name="eth0", mac="3c:22:fb:99:99:99")]))


def batch(sequence: int, *observations: pb.Observation) -> pb.AgentMessage:
    return pb.AgentMessage(batch=pb.Batch(sequence=sequence, created_at=stamp(AT), observations=observations))


SWEEP = (arp("3c:22:fb:00:00:01", "198.51.100.1"), arp("3c:22:fb:00:00:0a", "198.51.100.10"),
         arp("da:a1:19:00:00:07", "198.51.100.7", vendor=""), host_facts())


@contextlib.asynccontextmanager
async def collector(tmp_path: Path):
    """A store on a real file and a started server; yields (store, address, stopping event)."""
    store = await Store.open(tmp_path / "headcount.db")
    stopping = asyncio.Event()
    server, port = await start_server(store, "127.0.0.1:0", stopping=stopping)
    try:
        yield store, f"127.0.0.1:{port}", stopping
    finally:
        stopping.set()
        await server.stop(1)
        await store.close()


async def read(call) -> pb.CollectorMessage:
    reply = await asyncio.wait_for(call.read(), 10)
    assert reply is not grpc.aio.EOF, "the collector closed the stream"
    return reply


async def deliver(address: str, *messages: pb.AgentMessage, agent: pb.AgentMessage | None = None) -> list:
    """One agent session: Hello, then each message; returns every reply."""
    async with grpc.aio.insecure_channel(address) as channel:
        call = pb_grpc.IngestStub(channel).Connect()
        await call.write(agent or hello())
        replies = [await read(call)]
        for message in messages:
            await call.write(message)
            replies.append(await read(call))
        await call.done_writing()
        assert await asyncio.wait_for(call.read(), 10) is grpc.aio.EOF
        assert await call.code() == grpc.StatusCode.OK
        return replies


# ---------------------------------------------------------------- Ingest


def test_hello_welcome_batch_ack_duplicate_and_heartbeat(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (store, address, _):
            welcome, stored, duplicate, beat = await deliver(
                address, batch(1, *SWEEP), batch(1, *SWEEP),
                pb.AgentMessage(heartbeat=pb.Heartbeat(sent_at=stamp(AT), last_sequence=1)))
            (again,) = await deliver(address)   # a reconnecting agent learns what is stored
            return welcome, stored, duplicate, beat, again, await store.get_agent("lincoln-agent")

    welcome, stored, duplicate, beat, again, agent = asyncio.run(scenario())
    assert welcome.WhichOneof("body") == "welcome" and welcome.welcome.last_stored_sequence == 0
    assert (stored.ack.sequence, stored.ack.status, stored.ack.observations_stored, stored.ack.detail) == (
        1, pb.Ack.STORED, 4, "")
    assert (duplicate.ack.sequence, duplicate.ack.status, duplicate.ack.observations_stored) == (1, pb.Ack.DUPLICATE, 0)
    received = beat.heartbeat_ack.received_at.ToDatetime(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - received) < timedelta(seconds=30)
    assert again.welcome.last_stored_sequence == 1
    assert agent.last_heartbeat == received and agent.host_facts["hostname"] == "lab-pc"


def test_malformed_observations_are_rejected_individually(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (store, address, _):
            _, ack = await deliver(address, batch(1, arp("3c:22:fb:00:00:01", "198.51.100.1"),
                                                  arp("not-a-mac", "198.51.100.2"), pb.Observation()))
            return ack.ack, [d.mac async for d in store.list_devices()]

    ack, macs = asyncio.run(scenario())
    assert (ack.status, ack.observations_stored) == (pb.Ack.STORED, 1)
    assert ack.detail.startswith("rejected 2 of 3 observations")
    assert "'not-a-mac' is not a MAC address" in ack.detail and "no kind set" in ack.detail
    assert macs == ["3c:22:fb:00:00:01"]


@pytest.mark.parametrize("first, message", [
    (batch(1, arp("3c:22:fb:00:00:01", "198.51.100.1")), "the first message on Ingest/Connect must be a Hello, got batch"),
    (hello(agent_id=""), "Hello.agent.agent_id is empty"),
    (hello(site=""), "Hello.agent.site is empty"),
])
def test_a_stream_without_a_proper_hello_is_invalid_argument(tmp_path, first, message):
    async def scenario():
        async with collector(tmp_path) as (store, address, _):
            async with grpc.aio.insecure_channel(address) as channel:
                call = pb_grpc.IngestStub(channel).Connect()
                await call.write(first)
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await asyncio.wait_for(call.read(), 10)
                return caught.value, await store.count_observations()

    error, stored = asyncio.run(scenario())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.details()
    assert stored == 0


def test_a_second_hello_is_invalid_argument(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, _):
            async with grpc.aio.insecure_channel(address) as channel:
                call = pb_grpc.IngestStub(channel).Connect()
                await call.write(hello())
                assert (await read(call)).HasField("welcome")
                await call.write(hello())
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await asyncio.wait_for(call.read(), 10)
                return caught.value

    error = asyncio.run(scenario())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "only once" in error.details()


def test_stopping_ends_open_agent_streams_promptly(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, stopping):
            async with grpc.aio.insecure_channel(address) as channel:
                call = pb_grpc.IngestStub(channel).Connect()
                await call.write(hello())
                assert (await read(call)).HasField("welcome")
                started = time.monotonic()
                stopping.set()
                end = await asyncio.wait_for(call.read(), 5)
                return end, await call.code(), time.monotonic() - started

    end, code, waited = asyncio.run(scenario())
    assert end is grpc.aio.EOF and code == grpc.StatusCode.OK and waited < 2


# ---------------------------------------------------------------- Query, health, reflection


def test_query_lists_sites_and_devices_and_finds_one_device(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, _):
            await deliver(address, batch(1, *SWEEP))
            await deliver(address, batch(1, arp("3c:22:fb:00:00:01", "10.7.0.5")),
                          agent=hello("adams-agent", "adams-middle"))
            async with grpc.aio.insecure_channel(address) as channel:
                query = pb_grpc.QueryStub(channel)
                sites = await query.ListSites(pb.ListSitesRequest(), timeout=10)
                everything = [d async for d in query.ListDevices(pb.ListDevicesRequest(), timeout=10)]
                lincoln = [d async for d in query.ListDevices(pb.ListDevicesRequest(site=SCHOOL), timeout=10)]
                found = await query.GetDevice(pb.GetDeviceRequest(mac="3C-22-FB-00-00-01"), timeout=10)
                one_site = await query.GetDevice(pb.GetDeviceRequest(mac="3c22fb000001", site="adams-middle"), timeout=10)
                errors = []
                for request in (pb.GetDeviceRequest(mac="3c:22:fb:12:34:56"),
                                pb.GetDeviceRequest(mac="da:a1:19:00:00:07", site="adams-middle"),
                                pb.GetDeviceRequest(mac="zz:top")):
                    with pytest.raises(grpc.aio.AioRpcError) as caught:
                        await query.GetDevice(request, timeout=10)
                    errors.append((caught.value.code(), caught.value.details()))
                return sites, everything, lincoln, found, one_site, errors

    sites, everything, lincoln, found, one_site, errors = asyncio.run(scenario())
    assert [(s.site, s.devices, s.locally_administered, list(s.agents)) for s in sites.sites] == [
        ("adams-middle", 1, 0, ["adams-agent"]), (SCHOOL, 3, 1, ["lincoln-agent"])]
    assert [(d.site, d.ip) for d in everything] == [
        ("adams-middle", "10.7.0.5"), (SCHOOL, "198.51.100.1"), (SCHOOL, "198.51.100.7"), (SCHOOL, "198.51.100.10")]
    assert {d.mac for d in lincoln} == {"3c:22:fb:00:00:01", "3c:22:fb:00:00:0a", "da:a1:19:00:00:07"}
    assert [d.locally_administered for d in lincoln] == [False, True, False]
    assert [d.site for d in found.devices] == ["adams-middle", SCHOOL]
    assert {h.site for h in found.history} == {"adams-middle", SCHOOL}
    assert json.loads(found.history[0].data_json)["mac"] == "3c:22:fb:00:00:01"
    assert [d.site for d in one_site.devices] == ["adams-middle"]
    assert errors == [
        (grpc.StatusCode.NOT_FOUND, "no device with MAC 3c:22:fb:12:34:56 at any site"),
        (grpc.StatusCode.NOT_FOUND, "no device with MAC da:a1:19:00:00:07 at site adams-middle"),
        (grpc.StatusCode.INVALID_ARGUMENT, "'zz:top' is not a MAC address (expected e.g. aa:bb:cc:dd:ee:ff)"),
    ]


def test_health_says_serving_for_the_server_and_both_services(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, stopping):
            async with grpc.aio.insecure_channel(address) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                statuses = {}
                for service in ("", "headcount.v1.Ingest", "headcount.v1.Query"):
                    reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                    statuses[service] = reply.status
                stopping.set()
                await asyncio.sleep(0.1)
                after = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
                return statuses, after.status

    statuses, after = asyncio.run(scenario())
    assert set(statuses.values()) == {health_pb2.HealthCheckResponse.SERVING} and len(statuses) == 3
    assert after == health_pb2.HealthCheckResponse.NOT_SERVING


def test_reflection_lists_and_describes_the_headcount_services(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, _):
            async with grpc.aio.insecure_channel(address) as channel:
                call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
                await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
                listed = await asyncio.wait_for(call.read(), 10)
                await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol="headcount.v1.Query"))
                described = await asyncio.wait_for(call.read(), 10)
                await call.done_writing()
                return listed, described

    listed, described = asyncio.run(scenario())
    names = {service.name for service in listed.list_services_response.service}
    assert {"headcount.v1.Ingest", "headcount.v1.Query", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection"} <= names
    from google.protobuf import descriptor_pb2

    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in described.file_descriptor_response.file_descriptor_proto]
    services = {(f.package, s.name): [m.name for m in s.method] for f in files for s in f.service}
    assert services[("headcount.v1", "Query")] == ["ListSites", "ListDevices", "GetDevice"]


def test_start_server_refuses_a_busy_port_with_the_reason(tmp_path):
    from headcount.collector.errors import ListenAddressError

    async def scenario():
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            async with await Store.open(tmp_path / "h.db") as store:
                with pytest.raises(ListenAddressError, match="Address already in use"):
                    await start_server(store, f"127.0.0.1:{busy.getsockname()[1]}")

    asyncio.run(scenario())


# ---------------------------------------------------------------- the programs, as an admin and an engineer run them


def headcount(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HEADCOUNT, *args], capture_output=True, text=True, timeout=30, env=env)


def test_headcount_cli_reads_a_real_collector_process(tmp_path):
    process, address = start_collector(tmp_path)
    log = tmp_path / "collector.log"
    try:
        assert address.startswith("127.0.0.1:") and int(address.rsplit(":", 1)[1]) > 0
        asyncio.run(deliver(address, batch(1, *SWEEP)))

        listing = headcount("devices", "--collector", address, "--format", "json")
        assert listing.returncode == 0, listing.stderr
        devices = json.loads(listing.stdout)
        assert [(d["site"], d["mac"], d["ip"]) for d in devices] == [
            (SCHOOL, "3c:22:fb:00:00:01", "198.51.100.1"), (SCHOOL, "da:a1:19:00:00:07", "198.51.100.7"),
            (SCHOOL, "3c:22:fb:00:00:0a", "198.51.100.10")]
        assert set(devices[0]) == {"site", "mac", "ip", "vendor", "locally_administered", "first_seen", "last_seen",
                                   "sources", "hostname", "device_id", "device_class", "macs", "linked_macs"}
        assert (devices[0]["device_class"], devices[0]["macs"], devices[0]["linked_macs"]) == ("unknown", 1, [])
        assert len({d["device_id"] for d in devices}) == 3
        assert devices[1]["locally_administered"] is True and devices[1]["vendor"] == ""
        assert devices[0]["first_seen"] == "2026-11-22T08:30:00.000000Z" and devices[0]["sources"] == ["arp"]

        sites = headcount("sites", "--format", "json", env={"HEADCOUNT_COLLECTOR": address, "PATH": "/usr/bin:/bin"})
        assert sites.returncode == 0, sites.stderr
        (site,) = json.loads(sites.stdout)
        assert (site["site"], site["devices"], site["locally_administered"], site["agents"]) == (
            SCHOOL, 3, 1, ["lincoln-agent"])

        table = headcount("devices", "--collector", address)
        assert table.returncode == 0
        assert table.stdout.splitlines()[0].split() == ["SITE", "MAC", "IP", "VENDOR", "CLASS", "MACS", "RANDOMISED",
                                                        "FIRST", "SEEN", "LAST", "SEEN"]
        assert "3 devices at 1 site" in table.stdout

        detail = headcount("device", "DA-A1-19-00-00-07", "--collector", address)
        assert detail.returncode == 0 and "198.51.100.7" in detail.stdout and SCHOOL in detail.stdout
        assert "RANDOMISED  yes" in detail.stdout

        unknown = headcount("device", "3c:22:fb:12:34:56", "--collector", address)
        assert unknown.returncode == 1
        assert unknown.stderr.strip() == "headcount: no device with MAC 3c:22:fb:12:34:56 at any site"
        bad = headcount("device", "nonsense", "--collector", address)
        assert bad.returncode == 2 and "'nonsense' is not a MAC address" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        code = stop(process)
    assert code == 0
    text = log.read_text()
    assert f"listening on {address} (db {tmp_path / 'headcount.db'})" in text and "stopped" in text
    assert "Traceback" not in text
    assert not (tmp_path / "collector.addr").exists()   # the ready file goes away at a clean stop


def test_collector_process_stops_cleanly_on_sigint_with_an_agent_connected(tmp_path):
    process, address = start_collector(tmp_path)
    log = tmp_path / "collector.log"

    async def connected_agent():
        async with grpc.aio.insecure_channel(address) as channel:
            call = pb_grpc.IngestStub(channel).Connect()
            await call.write(hello())
            assert (await read(call)).HasField("welcome")
            started = time.monotonic()
            process.send_signal(signal.SIGINT)
            end = await asyncio.wait_for(call.read(), 10)
            return end, time.monotonic() - started

    try:
        end, waited = asyncio.run(connected_agent())
        assert end is grpc.aio.EOF and waited < 5
        assert process.wait(timeout=10) == 0
    finally:
        stop(process)
    assert "Traceback" not in log.read_text()


def test_cli_against_a_port_where_nothing_listens_says_so_and_exits_2():
    with socket.socket() as probe:   # a port that was free a moment ago, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = headcount("devices", "--collector", f"127.0.0.1:{port}", "--format", "json")
    assert result.returncode == 2
    assert result.stderr.startswith(f"headcount: cannot reach the collector at 127.0.0.1:{port} (")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("args, message", [
    (["--listen", "localhost"], "listen address 'localhost' is not HOST:PORT"),
    (["--listen", "127.0.0.1:70000"], "is not HOST:PORT with a port from 0 to 65535"),
    (["--db", "{tmp}/no-such-folder/headcount.db"], "cannot open the database"),
])
def test_collector_refuses_bad_settings_with_one_line_and_exit_2(tmp_path, args, message):
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if "--db" not in args:
        args += ["--db", str(tmp_path / "headcount.db")]
    if "--listen" not in args:
        args += ["--listen", "127.0.0.1:0"]
    result = subprocess.run([*COLLECTOR, "serve", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("headcount-collector:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- one device, one record


ROTATING = ["da:a1:19:00:00:01", "6e:11:22:33:44:02", "2a:bb:cc:dd:ee:03", "ae:01:02:03:04:04", "fa:99:88:77:66:05"]
DUID = bytes.fromhex("ff6b1c29d4000100012c3a4b5c6d7e")
IPAD = pb.Classification(device_class="ipad", evidence=["dhcp fingerprint 1,121,3,6,15 -> ipad (+4)"])


def rotating_ipad(day: int) -> list[pb.Observation]:
    mac, at, ip = ROTATING[day], AT + timedelta(days=day), f"198.51.100.{50 + day}"
    return [arp(mac, ip, at, vendor=""),
            pb.Observation(observed_at=stamp(at), scanner="passive", classification=IPAD, name_policy="keep",
                           dhcp=pb.DhcpSighting(mac=mac, ip=ip, hostname="Janes-iPad", client_id=DUID,
                                                parameter_request_list=[1, 121, 3, 6, 15], message_type="REQUEST",
                                                source="client")),
            pb.Observation(observed_at=stamp(at), scanner="mdns", name_policy="keep",
                           mdns=pb.MdnsService(service_type="_companion-link._tcp.local.", host="janes-ipad.local.",
                                               port=49152, addresses=[ip], mac=mac))]


def endpoint_hello() -> pb.AgentMessage:
    return pb.AgentMessage(hello=pb.Hello(agent=pb.AgentIdentity(
        agent_id="lab-pc-07", site=SCHOOL, version="0.1.0", hostname="lab-pc-07", scanners=["hostfacts"],
        mode="endpoint")))


def endpoint_facts() -> pb.Observation:
    return pb.Observation(observed_at=stamp(AT), scanner="hostfacts", host=pb.HostFacts(
        hostname="lab-pc-07", os="Linux", os_release="Debian GNU/Linux 12", endpoint=True, reboot_count=9,
        reboots_last_30_days=2, boot_time=stamp(AT - timedelta(hours=3)),
        disks=[pb.Disk(mountpoint="/", total_bytes=100 * 2**30, used_bytes=25 * 2**30)],
        battery=pb.Battery(present=True, percent=90, design_capacity=50_000_000, full_capacity=40_000_000),
        interfaces=[pb.HostInterface(name="eth0", mac="3c:22:fb:00:00:0a", addresses=["198.51.100.10/24"]),
                    pb.HostInterface(name="wlan0", mac="3c:22:fb:00:00:0b")]))


async def run_headcount(*args: str) -> tuple[int, str, str]:
    """The CLI as a process, without blocking the event loop the in-process server answers on."""
    process = await asyncio.create_subprocess_exec(*HEADCOUNT, *args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, out.decode(), err.decode()


def test_a_device_with_rotating_macs_is_one_device_over_grpc_and_in_the_cli(tmp_path):
    async def scenario():
        async with collector(tmp_path) as (_, address, _):
            # The site agent sweeps: two desktops, the iPad on five days with five private MACs.
            await deliver(address, batch(1, *SWEEP[:2]), *(batch(2 + day, *rotating_ipad(day)) for day in range(5)))
            # The lab PC at 198.51.100.10 runs an endpoint agent: its facts join its ARP-seen row.
            await deliver(address, batch(1, endpoint_facts()), agent=endpoint_hello())
            async with grpc.aio.insecure_channel(address) as channel:
                query = pb_grpc.QueryStub(channel)
                sites = await query.ListSites(pb.ListSitesRequest(), timeout=10)
                listing = [d async for d in query.ListDevices(pb.ListDevicesRequest(site=SCHOOL), timeout=10)]
                ipad = await query.GetDevice(pb.GetDeviceRequest(mac=ROTATING[1]), timeout=10)
                lab_pc = await query.GetDevice(pb.GetDeviceRequest(mac="3c:22:fb:00:00:0b"), timeout=10)
            cli_device = await run_headcount("device", ROTATING[0], "--collector", address)
            cli_sites = await run_headcount("sites", "--collector", address)
            cli_json = await run_headcount("devices", "--collector", address, "--format", "json")
            cli_lab = await run_headcount("device", "3c:22:fb:00:00:0a", "--collector", address, "--format", "json")
            return sites, listing, ipad, lab_pc, cli_device, cli_sites, cli_json, cli_lab

    sites, listing, ipad, lab_pc, cli_device, cli_sites, cli_json, cli_lab = asyncio.run(scenario())
    (site,) = sites.sites
    assert (site.devices, site.stable_devices, site.randomised_devices, site.locally_administered) == (3, 2, 1, 5)
    assert [(c.device_class, c.devices) for c in site.classes] == [("ipad", 1), ("unknown", 2)]
    assert [(d.mac, 1 + len(d.linked_macs), d.device_class) for d in listing] == [
        ("3c:22:fb:00:00:01", 1, "unknown"), ("3c:22:fb:00:00:0a", 2, "unknown"), (ROTATING[4], 5, "ipad")]

    (device,) = ipad.devices
    assert device.mac == ROTATING[1] and set(device.linked_macs) == set(ROTATING) - {ROTATING[1]}
    assert device.device_id == listing[2].device_id and list(device.class_evidence) == list(IPAD.evidence)
    assert [line.split(" link")[0] for line in device.link_evidence] == [
        "dhcp client id ff:6b:1c:29:d4:00:01:00:01:2c:3a:4b:5c:6d:7e", "dhcp hostname and mdns host janes-ipad"]
    assert {h.kind for h in ipad.history} == {"arp", "dhcp", "mdns"}
    assert {json.loads(h.data_json)["mac"] for h in ipad.history} == set(ROTATING)

    (pc,) = lab_pc.devices
    assert list(pc.linked_macs) == ["3c:22:fb:00:00:0a"] and pc.ip == "198.51.100.10"
    assert pc.host.hostname == "lab-pc-07" and pc.host.reboot_count == 9 and pc.host.endpoint

    code, out, err = cli_device
    assert code == 0, err
    assert "  CLASS       ipad" in out and "dhcp fingerprint 1,121,3,6,15 -> ipad (+4)" in out
    assert "  DEVICE      " in out and "(5 MACs)" in out
    assert all(mac in out for mac in ROTATING) and "  WHY         dhcp client id ff:6b:1c" in out
    code, out, err = cli_sites
    assert code == 0, err
    assert out.splitlines()[1].split()[:5] == [SCHOOL, "3", "2", "1", "5"]
    assert "devices by class:" in out and out.splitlines()[-1].split() == [SCHOOL, "1", "2"]
    code, out, err = cli_json
    assert code == 0, err
    assert [(d["mac"], d["macs"], d["device_class"]) for d in json.loads(out)] == [
        ("3c:22:fb:00:00:01", 1, "unknown"), ("3c:22:fb:00:00:0a", 2, "unknown"), (ROTATING[4], 5, "ipad")]
    code, out, err = cli_lab
    assert code == 0, err
    (lab,) = json.loads(out)["devices"]
    assert lab["host"]["reboot_count"] == 9 and lab["host"]["battery"]["full_capacity"] == "40000000"
    assert lab["link_evidence"] == ["host facts of endpoint agent lab-pc-07 links 3c:22:fb:00:00:0a, 3c:22:fb:00:00:0b"]
