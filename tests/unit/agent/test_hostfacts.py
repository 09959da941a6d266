import socket
from datetime import datetime, timezone

from headcount.agent.scanners.hostfacts import collect_host_facts, first_battery, read_battery_health


def make_supply(root, name, **files):
    folder = root / name
    folder.mkdir()
    for key, value in files.items():
        (folder / key).write_text(f"{value}\n")
    return folder


def test_energy_battery_reports_design_and_full_capacity(tmp_path):
    folder = make_supply(tmp_path, "BAT0", type="Battery", present=1, capacity=81,
                         energy_full_design=57000000, energy_full=41040000, cycle_count=412)
    battery = read_battery_health(folder)
    assert battery.present and battery.percent == 81
    assert (battery.design_capacity, battery.full_capacity, battery.cycle_count) == (57000000, 41040000, 412)


def test_charge_battery_uses_charge_files(tmp_path):
    folder = make_supply(tmp_path, "BAT1", type="Battery", capacity=50, charge_full_design=4000000, charge_full=3000000)
    battery = read_battery_health(folder)
    assert (battery.design_capacity, battery.full_capacity, battery.cycle_count) == (4000000, 3000000, 0)


def test_mains_adapter_is_not_a_battery_and_first_battery_skips_it(tmp_path):
    make_supply(tmp_path, "AC", type="Mains", online=1)
    assert read_battery_health(tmp_path / "AC") is None
    assert first_battery(tmp_path) is None
    make_supply(tmp_path, "BAT0", type="Battery", energy_full_design=10, energy_full=9)
    assert first_battery(tmp_path).full_capacity == 9
    assert first_battery(tmp_path / "missing") is None


def test_garbage_in_sysfs_reads_as_unknown(tmp_path):
    folder = make_supply(tmp_path, "BAT0", type="Battery", energy_full_design="n/a", energy_full="-3")
    battery = read_battery_health(folder)
    assert battery.design_capacity == 0 and battery.full_capacity == 0


def test_real_host_facts_of_this_machine():
    now = datetime.now(timezone.utc)
    facts = collect_host_facts(now)
    assert facts.hostname == socket.gethostname()
    assert facts.os == "Linux" and facts.kernel
    assert facts.cpu_logical >= 1 and facts.memory_total_bytes > facts.memory_available_bytes > 0
    assert facts.boot_time < now and facts.observed_at == now
    loopback = next(i for i in facts.interfaces if i.name == "lo")
    assert "127.0.0.1/8" in loopback.addresses and loopback.is_up
    assert any(d.mountpoint == "/" and d.total_bytes > 0 for d in facts.disks)
