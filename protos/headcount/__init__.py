"""Headcount: network and device inventory for school districts.

The package root lives in protos/headcount so that the generated wire code
(headcount.v1) and the hand-written sides (headcount.agent, headcount.collector)
share one import name; see [tool.setuptools] in pyproject.toml.
"""


def __getattr__(name: str) -> str:
    # __version__ is looked up when asked for: importlib.metadata costs about 40 ms at import, which every
    # process that imports the package would pay (a district evaluation's worker processes among them).
    if name != "__version__":
        raise AttributeError(f"module 'headcount' has no attribute {name!r}")
    from importlib import metadata
    try:
        return metadata.version("headcount")
    except metadata.PackageNotFoundError:  # running from a checkout without install
        return "0.0.0+unknown"
