"""Fixtures shared by the collector's unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from standards_edits import EXAMPLE


@pytest.fixture
def district(tmp_path: Path) -> Path:
    """A private copy of the example district, to break."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "standards"))
