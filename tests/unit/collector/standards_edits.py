"""Helpers for the standards tests: a private copy of the example district to break, and where it broke."""

from __future__ import annotations

from pathlib import Path

from headcount.collector.standards import check_standards

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "standards"


def edit(folder: Path, name: str, old: str, new: str) -> Path:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}: the example changed, update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, marker: str, nth: int = 1) -> int:
    lines = [number for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if marker in text]
    return lines[nth - 1]


def problems(path: Path) -> list[str]:
    standards, found = check_standards(path)
    assert standards is None and found
    return [str(problem) for problem in found]
