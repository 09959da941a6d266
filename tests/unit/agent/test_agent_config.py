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
