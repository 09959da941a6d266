"""Generated protobuf and gRPC code for the headcount.v1 contract (do not edit).

Only the edge modules (agent/wire.py, agent/sink.py, collector/wire.py,
collector/server.py, collector/cli.py) import from here.
"""
