"""The committed generated code must match the .proto: regenerate and compare bytes."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_generated_code_is_fresh(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools (dev extra) is needed to regenerate")
    spec = importlib.util.spec_from_file_location("generate", REPO / "protos" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    written = generate.generate(tmp_path)
    assert written, "protoc wrote nothing"
    for fresh in written:
        committed = REPO / "protos" / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is not committed; run: python protos/generate.py"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed.relative_to(REPO)} is stale; run: python protos/generate.py"
        )


def test_generated_grpc_module_imports_through_headcount_namespace():
    from headcount.v1 import inventory_pb2, inventory_pb2_grpc

    assert inventory_pb2.DESCRIPTOR.package == "headcount.v1"
    assert {s for s in inventory_pb2.DESCRIPTOR.services_by_name} == {"Ingest", "Query"}
    assert hasattr(inventory_pb2_grpc, "IngestStub") and hasattr(inventory_pb2_grpc, "QueryServicer")
