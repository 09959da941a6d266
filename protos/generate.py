"""Regenerate the committed Python code for the wire contract.

Run from anywhere:  python protos/generate.py
The output is committed (as diode-sdk does) so that installing Headcount
needs no protoc; tests/unit/test_protos_fresh.py fails when it is stale.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
PROTO_FILES = ["headcount/v1/inventory.proto"]


def generate(out_dir: Path) -> list[Path]:
    """Run protoc for every contract file into out_dir; return the files written."""
    from grpc_tools import protoc  # dev extra only: the runtime never needs it

    well_known = resources.files("grpc_tools") / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    for proto in PROTO_FILES:
        # -I at protos/ makes the import path "headcount/v1/...", so the
        # generated _grpc module says "from headcount.v1 import inventory_pb2",
        # which is exactly the installed import name.
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{PROTO_ROOT}",
                f"-I{well_known}",
                f"--python_out={out_dir}",
                f"--pyi_out={out_dir}",
                f"--grpc_python_out={out_dir}",
                str(PROTO_ROOT / proto),
            ]
        )
        if status != 0:
            raise SystemExit(f"protoc failed on {proto} (exit {status})")
    return sorted(p for p in out_dir.rglob("*_pb2*") if p.is_file())


if __name__ == "__main__":
    written = generate(PROTO_ROOT)
    for path in written:
        print(path.relative_to(PROTO_ROOT))
    sys.exit(0)
