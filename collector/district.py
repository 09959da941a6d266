"""District jobs run from the command line: importing asset files and evaluating uniformity.

Glue only: the reading and matching rules are assets.py's, the checks are
uniformity.py's, the database is store.py's. Each job takes an open Store
and returns what it did, so __main__ only parses arguments and prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .assets import ImportFile, MatchReport, match_assets, read_import
from .model import AssetImportOutcome, InventoryRow, UniformitySnapshot
from .standards import Standards
from .store import Store
from .uniformity import DistrictReport, InventoryDevice, RuleResult, ScoreParts, evaluate


@dataclass(frozen=True)
class AssetImport:
    file: ImportFile
    report: MatchReport
    outcome: AssetImportOutcome


async def import_asset_file(store: Store, path: Path, standards: Standards | None, now: datetime) -> AssetImport:
    """Read `path`, match its rows to the store's devices, store the matches in one transaction.

    Raises assets.AssetImportError when the file cannot be read at all; bad rows are in the result.
    """
    imported = read_import(path)
    schools: list[str] = []
    if standards is not None:
        for school in standards.schools:
            schools += [school.id, school.name, school.short_name]
    report = match_assets(imported.records, await store.asset_candidates(), schools)
    outcome = await store.import_assets(report.matched, now)
    return AssetImport(imported, report, outcome)


def inventory_device(row: InventoryRow) -> InventoryDevice:
    return InventoryDevice(site=row.site, device_id=row.device_id, device_class=row.device_class,
                           model=row.model or None, firmware=row.firmware or None,
                           os_version=row.os_version or None, is_infrastructure=row.is_infrastructure)


async def read_inventory(store: Store) -> list[InventoryRow]:
    rows: list[InventoryRow] = []
    async for page in store.inventory_pages():
        rows += page
    return rows


def _rules(rules: Iterable[RuleResult]) -> list[dict[str, Any]]:
    return [dict(dataclasses.asdict(rule), detail=list(rule.detail)) for rule in rules]


def _parts(parts: ScoreParts) -> dict[str, Any]:
    return {"approved_share": parts.approved_share, "approved_devices": parts.approved_devices,
            "measured_devices": parts.measured_devices, "firmware_versions": dict(parts.firmware_versions),
            "firmware_uniformity": parts.firmware_uniformity, "ratios": dict(parts.ratios),
            "ratio_score": parts.ratio_score}


def snapshots_of(report: DistrictReport) -> list[UniformitySnapshot]:
    """The district's snapshot first, then one per school, all dated report.taken_at."""
    found = [UniformitySnapshot(report.taken_at, "district", "", report.score.value, _parts(report.score.parts),
                                _rules(report.rules), list(report.strengths), list(report.needs))]
    found += [UniformitySnapshot(report.taken_at, "school", school.school_id, school.score.value,
                                 _parts(school.score.parts), _rules(school.rules), list(school.strengths),
                                 list(school.needs))
              for school in report.schools]
    return found


async def evaluate_district(store: Store, standards: Standards, now: datetime,
                            *, save: bool = True) -> tuple[DistrictReport, list[InventoryRow]]:
    """Read the inventory, evaluate every school and the district, keep the dated snapshots."""
    rows = await read_inventory(store)
    report = evaluate(standards, map(inventory_device, rows), now=now)
    if save:
        await store.save_snapshots(snapshots_of(report))
    return report, rows


def report_json(report: DistrictReport) -> dict[str, Any]:
    return {
        "taken_at": report.taken_at.isoformat(), "district": report.name, "devices": report.devices,
        "score": report.score.value, "parts": _parts(report.score.parts), "rules": _rules(report.rules),
        "strengths": list(report.strengths), "needs": list(report.needs), "unassigned": dict(report.unassigned),
        "schools": [{"id": s.school_id, "name": s.name, "devices": s.devices, "score": s.score.value,
                     "parts": _parts(s.score.parts), "rules": _rules(s.rules), "strengths": list(s.strengths),
                     "needs": list(s.needs)} for s in report.schools],
    }


def _fraction(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f}"


def report_text(report: DistrictReport) -> str:
    parts = report.score.parts
    lines = [f"{report.name}: uniformity score {report.score.value:.1f} / 100 "
             f"({report.devices:,} devices, {len(report.schools)} schools, {report.taken_at:%Y-%m-%d %H:%M} UTC)",
             f"  approved models       {_fraction(parts.approved_share)} "
             f"({parts.approved_devices:,} of {parts.measured_devices:,} measured devices)",
             f"  firmware uniformity   {_fraction(parts.firmware_uniformity)}"
             + (" (" + ", ".join(f"{model}: {n} version{'s' if n != 1 else ''}"
                                for model, n in sorted(parts.firmware_versions.items())) + ")"
                if parts.firmware_versions else ""),
             f"  ratios against standard {_fraction(parts.ratio_score)}"
             + (" (" + ", ".join(f"{rule} {value:.2f}" for rule, value in sorted(parts.ratios.items())) + ")"
                if parts.ratios else "")]
    lines.append("District strengths and needs:")
    lines += [f"  + {text}" for text in report.strengths]
    lines += [f"  - {text}" for text in report.needs]
    if not report.strengths and not report.needs:
        lines.append("  (none)")
    for school in report.schools:
        lines.append(f"{school.name}: score {school.score.value:.1f} ({school.devices:,} devices)")
        lines += [f"  + {text}" for text in school.strengths]
        lines += [f"  - {text}" for text in school.needs]
    return "\n".join(lines)
