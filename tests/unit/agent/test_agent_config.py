import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from headcount.agent.config import load_config, parse_config, with_command_line_subnet, AgentConfig
from headcount.agent.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_full_config_is_parsed(tmp_path):
    path = write(tmp_path, """
[agent]
site = "lincoln-elementary"
id = "lincoln-1"
collector = "collector.example.org:50051"
state_dir = "/tmp/x"
scan_interval = 300
heartbeat_interval = 10

[arp]
interface = "lo"
subnets = ["198.51.100.0/24", {cidr = "192.0.2.7/28", interface = "lo"}]
timeout = 1.5
retries = 2

[hostfacts]
enabled = false
""")
    config = load_config(path)
    assert config.site == "lincoln-elementary"
    assert config.agent_id == "lincoln-1"
    assert config.collector == "collector.example.org:50051"
    assert config.scan_interval_s == 300.0
    assert [str(t.network) for t in config.arp.subnets] == ["198.51.100.0/24", "192.0.2.0/28"]
    assert all(t.interface == "lo" for t in config.arp.subnets)
    assert config.arp.timeout_s == 1.5 and config.arp.retries == 2
    assert config.hostfacts_enabled is False
    assert config.source == str(path)


@pytest.mark.parametrize(
    "text, must_mention",
    [
        ('[agent]\nsite = "x"\ncolour = "blue"\n', ["agent.toml", "agent.colour", "'blue'"]),
        # A misspelled table is named but its contents are not echoed (they may hold SNMP secrets).
        ('[arpp]\nenabled = true\n', ["agent.toml", "arpp", "{...}"]),
        ('sit = "lincoln"\n', ["agent.toml", "sit", "'lincoln'"]),
        ('[arp]\ninterface = "lo"\nsubnets = ["198.51.100.0/33"]\n', ["agent.toml", "arp.subnets[0]", "198.51.100.0/33"]),
        ('[arp]\ninterface = "lo"\nsubnets = ["not-a-cidr"]\n', ["arp.subnets[0]", "not-a-cidr"]),
        ('[arp]\ninterface = "nosuchif9"\nsubnets = ["198.51.100.0/24"]\n', ["arp.interface", "nosuchif9", "no such network interface"]),
        ('[arp]\nsubnets = [{cidr = "198.51.100.0/24", interface = "eth99x"}]\n', ["arp.subnets[0].interface", "eth99x"]),
        ('[arp]\ninterface = "lo"\nsubnets = ["10.0.0.0/8"]\n', ["arp.subnets[0]", "10.0.0.0/8", "/16"]),
        ('[arp]\ninterface = "lo"\nsubnets = ["2001:db8::/64"]\n', ["IPv4"]),
        ('[arp]\nsubnets = ["198.51.100.0/24"]\n', ["no interface"]),
        ('[agent]\nscan_interval = -5\n', ["agent.scan_interval", "-5"]),
        ('[agent]\nscan_interval = true\n', ["agent.scan_interval"]),
        ('[agent]\ncollector = "no-port"\n', ["agent.collector", "no-port"]),
        ('this is [not toml\n', ["agent.toml", "not valid TOML"]),
    ],
)
def test_bad_config_names_file_key_and_value(tmp_path, text, must_mention):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    for fragment in must_mention:
        assert fragment in str(caught.value)


def test_max_subnet_prefix_is_configurable():
    config = parse_config({"agent": {"max_subnet_prefix": 8}, "arp": {"interface": "lo", "subnets": ["10.0.0.0/8"]}}, "t")
    assert config.arp.subnets[0].network == ipaddress.IPv4Network("10.0.0.0/8")


def test_command_line_subnet_is_checked_against_the_limit():
    with pytest.raises(ConfigError, match="--subnet.*refusing"):
        with_command_line_subnet(AgentConfig(), "198.18.0.0/15", "lo")
    config = with_command_line_subnet(AgentConfig(), "198.18.0.0/16", "lo")
    assert str(config.arp.subnets[0].network) == "198.18.0.0/16"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: no such config file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize("args, bad_value", [
    (["--subnet", "198.51.100.0/24", "--interface", "nosuchif9"], "nosuchif9"),
    (["--subnet", "198.51.100.300/24", "--interface", "lo"], "198.51.100.300/24"),
    (["--subnet", "10.0.0.0/8", "--interface", "lo"], "10.0.0.0/8"),
])
def test_agent_cli_exits_non_zero_with_a_clear_message(args, bad_value):
    done = subprocess.run([sys.executable, "-m", "headcount.agent", "scan", "--once", "--json", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # --json output stays clean: nothing half-printed
    assert "config error" in done.stderr and bad_value in done.stderr


def test_agent_run_with_unknown_key_exits_non_zero(tmp_path):
    path = write(tmp_path, '[agent]\nsite = "s"\ncollector = "127.0.0.1:1"\nsubnet = "198.51.100.0/24"\n')
    done = subprocess.run([sys.executable, "-m", "headcount.agent", "run", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert str(path) in done.stderr and "agent.subnet" in done.stderr and "198.51.100.0/24" in done.stderr


def test_passive_mdns_privacy_and_mode_sections_are_read(tmp_path):
    from headcount.agent.config import parse_config

    key = tmp_path / "district.key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    config = parse_config({
        "agent": {"mode": "endpoint"},
        "passive": {"flush_interval": 1, "max_packets_per_second": 500, "max_tracked_devices": 100},
        "mdns": {"service_types": ["_ipp._tcp", "_airplay._tcp.local."], "browse_time": 2},
        "privacy": {"student_names": "drop", "other_names": "pseudonymise", "secret_file": str(key)},
    }, "school.toml")
    assert config.mode == "endpoint"
    assert (config.passive.flush_interval_s, config.passive.max_packets_per_second,
            config.passive.max_tracked_devices) == (1.0, 500, 100)
    assert config.mdns.service_types == ("_ipp._tcp.local.", "_airplay._tcp.local.")
    assert (config.privacy.student_names, config.privacy.other_names) == ("drop", "pseudonymise")
    assert config.privacy.secret == b"0123456789abcdef0123456789abcdef"
    assert "0123456789abcdef" not in repr(config.privacy)   # the key is never printed


@pytest.mark.parametrize("raw, must_mention", [
    ({"agent": {"mode": "laptop"}}, "agent.mode = 'laptop'"),
    ({"privacy": {"student_names": "hash"}}, "privacy.student_names = 'hash'"),
    ({"privacy": {"student_classes": ["tablet"]}}, "privacy.student_classes[0] = 'tablet'"),
    ({"privacy": {"secret_file": "/nonexistent/district.key"}}, "privacy.secret_file"),
    ({"mdns": {"service_types": ["ipp"]}}, "mdns.service_types[0] = 'ipp'"),
    ({"mdns": {"browse_time": 0}}, "mdns.browse_time = 0"),
    ({"passive": {"max_packets_per_second": 0}}, "passive.max_packets_per_second = 0"),
    ({"passive": {"interfaces": ["no-such-if0"]}}, "passive.interfaces[0] = 'no-such-if0'"),
    ({"passive": {"flood": 1}}, "unknown key passive.flood"),
])
def test_new_sections_name_the_bad_key(raw, must_mention):
    from headcount.agent.config import parse_config
    from headcount.agent.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "school.toml")
    assert "school.toml" in str(caught.value) and must_mention in str(caught.value)


def test_short_district_key_is_refused_and_the_environment_is_read(tmp_path):
    from headcount.agent.config import parse_privacy_section
    from headcount.agent.errors import ConfigError

    key = tmp_path / "short.key"
    key.write_text("abc")
    with pytest.raises(ConfigError, match="at least 16"):
        parse_privacy_section({"secret_file": str(key)}, "school.toml")
    settings = parse_privacy_section({}, "school.toml", environ={"HEADCOUNT_DISTRICT_SECRET": "k" * 32})
    assert settings.secret == b"k" * 32 and settings.secret_source == "HEADCOUNT_DISTRICT_SECRET"
    assert parse_privacy_section({}, "school.toml", environ={}).secret == b""
