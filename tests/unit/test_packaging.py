"""The built wheel installs everything under the `headcount` import name, nothing bare."""

import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_wheel_maps_folders_under_headcount(tmp_path):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(repo)],
                           capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed: {built.stderr[-2000:]}")
    (wheel,) = tmp_path.glob("headcount-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("headcount/__init__.py", "headcount/v1/inventory_pb2.py", "headcount/v1/inventory_pb2_grpc.py",
                     "headcount/v1/inventory.proto", "headcount/agent/__main__.py", "headcount/agent/scanners/arp.py",
                     "headcount/collector/__main__.py", "headcount/collector/cli.py", "headcount/macaddr.py"):
        assert required in names, f"{required} missing from {wheel.name}"
    top_level = {name.split("/")[0] for name in names}
    assert top_level <= {"headcount", f"{wheel.name.rsplit('-', 3)[0]}.dist-info"}, top_level

    # Import from the unpacked wheel, not the checkout, in a fresh interpreter.
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    probe = subprocess.run(
        [sys.executable, "-c", "import headcount.agent, headcount.collector.cli, headcount.v1.inventory_pb2_grpc as g;"
         "print(headcount.agent.__file__)"],
        capture_output=True, text=True, env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().startswith(str(unpacked))


def test_extras_keep_each_side_light():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def names(requirements):
        return {r.split("=")[0].split(">")[0].split("[")[0].strip().lower() for r in requirements}

    base = names(project["dependencies"])
    assert base == {"grpcio", "protobuf"}, "both sides install the base: keep it to the wire contract"
    assert "scapy" not in base | names(extras["collector"]), "the district server must never install scapy"
    assert "sqlite-utils" not in base | names(extras["agent"]), "a school PC must never install sqlite-utils"
    assert {"scapy", "psutil"} <= names(extras["agent"]) and "sqlite-utils" in names(extras["collector"])
