"""Headcount: network and device inventory for school districts.

The package root lives in protos/headcount so that the generated wire code
(headcount.v1) and the hand-written sides (headcount.agent, headcount.collector)
share one import name; see [tool.setuptools] in pyproject.toml.
"""

from importlib import metadata

try:
    __version__ = metadata.version("headcount")
except metadata.PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.0.0+unknown"
