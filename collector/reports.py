"""Text and JSON for reading what `headcount-collector evaluate` stored: the flags and the uniformity trend.

It exists so the `flags` and `trend` sub-commands stay thin (__main__ parses, asks the store, prints) and
so the layout can be tested without a database: every function here takes what the store returned and
returns a string or a JSON-ready dict. Nothing here reads the database, the clock or the environment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .flags import AGENT_KEY_PREFIX, Flag
from .model import UniformitySnapshot

# The uniformity parts shown per snapshot, in the order of the score's formula (collector/uniformity.py).
TREND_PARTS = (("approved_share", "approved"), ("firmware_uniformity", "firmware"), ("ratio_score", "ratios"))


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


# ---------------------------------------------------------------- flags


def open_flag_counts(counts: Mapping[tuple[str, str], int], *, site: str | None = None,
                     kind: str | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Store.count_open_flags() -> (open flags per kind, per site), restricted to `site` / `kind` when given."""
    by_kind: Counter[str] = Counter()
    by_site: Counter[str] = Counter()
    for (flag_site, flag_kind), count in counts.items():
        if (site is None or flag_site == site) and (kind is None or flag_kind == kind):
            by_kind[flag_kind] += count
            by_site[flag_site] += count
    return dict(sorted(by_kind.items())), dict(sorted(by_site.items()))


def _device(flag: Flag, mac: str) -> str:
    if flag.device_id.startswith(AGENT_KEY_PREFIX):
        return f"agent {flag.device_id[len(AGENT_KEY_PREFIX):]}"
    return f"device {flag.device_id}" + (f" ({mac})" if mac else "")


def flags_text(flags: Sequence[tuple[str, str, Flag]], counts: Mapping[tuple[str, str], int], *,
               include_cleared: bool = False, site: str | None = None, kind: str | None = None,
               limit: int | None = None) -> str:
    """The summary of open flags (per kind, per site), then one block per flag: a header line, the reason and
    every evidence line indented. `flags` is Store.list_flags' answer (newest raise first), `counts`
    Store.count_open_flags'."""
    by_kind, by_site = open_flag_counts(counts, site=site, kind=kind)
    selection = ", ".join(f"{name} {value}" for name, value in (("site", site), ("kind", kind)) if value)
    lines = [f"Open flags: {sum(by_kind.values()):,}" + (f" ({selection})" if selection else "")]
    if by_kind:
        lines.append("  by kind:")
        lines += [f"    {name:<20} {count:>7,}" for name, count in by_kind.items()]
        lines.append("  by site:")
        lines += [f"    {name or '-':<20} {count:>7,}" for name, count in by_site.items()]
    which = "open and cleared flags" if include_cleared else "open flags"
    if not flags:
        lines += ["", f"No {which}" + (f" ({selection})" if selection else "") + "."]
        return "\n".join(lines)
    more = f"; only the newest {limit:,}: raise --limit for more" if limit is not None and len(flags) >= limit \
        else ""
    lines += ["", f"{_plural(len(flags), 'flag')} ({which}, newest raise first{more}):"]
    for flag_site, mac, flag in flags:
        state = "open" if flag.cleared_at is None else f"cleared {_when(flag.cleared_at)}"
        lines += ["", f"{flag.kind}  {flag_site or '-'}  {_device(flag, mac)}  raised {_when(flag.raised_at)}, "
                      f"{state}",
                  f"    {flag.reason}"]
        lines += [f"      - {line}" for line in flag.evidence]
    return "\n".join(lines)


def flags_json(flags: Sequence[tuple[str, str, Flag]], counts: Mapping[tuple[str, str], int], *,
               include_cleared: bool = False, site: str | None = None, kind: str | None = None,
               limit: int | None = None) -> dict[str, Any]:
    """The same as flags_text as one JSON-ready dict; times are ISO 8601 UTC, cleared_at null while open."""
    by_kind, by_site = open_flag_counts(counts, site=site, kind=kind)
    return {
        "filter": {"site": site, "kind": kind, "include_cleared": include_cleared, "limit": limit},
        "open": sum(by_kind.values()), "open_by_kind": by_kind, "open_by_site": by_site,
        "flags": [{"site": flag_site, "device_id": flag.device_id, "mac": mac, "kind": flag.kind,
                   "raised_at": _iso(flag.raised_at), "cleared_at": _iso(flag.cleared_at),
                   "last_present_at": _iso(flag.last_present_at), "reason": flag.reason,
                   "evidence": list(flag.evidence)}
                  for flag_site, mac, flag in flags],
    }


# ---------------------------------------------------------------- trend


def _scope_name(school_id: str | None) -> str:
    return f"school {school_id}" if school_id is not None else "the district"


def _change(score: float, previous: float | None) -> float | None:
    """The change of the score shown to one decimal, so the column always agrees with the scores printed."""
    return None if previous is None else round(round(score, 1) - round(previous, 1), 1)


def _signed(change: float | None) -> str:
    if change is None:
        return "-"
    return "+0.0" if change == 0 else f"{change:+.1f}"


def _part(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "-"


def trend_text(snapshots: Sequence[UniformitySnapshot], *, school_id: str | None = None) -> str:
    """Store.list_snapshots' answer (newest first) printed oldest to newest with each change of score, then
    the newest snapshot's needs."""
    if not snapshots:
        return (f"No uniformity snapshots for {_scope_name(school_id)}.\n"
                + ("Check the school id (its id in the standards registry, e.g. lincoln-elementary); "
                   if school_id is not None else "")
                + "`headcount-collector evaluate` stores a snapshot on each run.")
    ordered = list(reversed(snapshots))
    lines = [f"Uniformity score of {_scope_name(school_id)}, oldest first ({_plural(len(ordered), 'snapshot')}):",
             f"  {'date (UTC)':<16}  {'score':>5}  {'change':>6}  " + "  ".join(f"{label:>8}"
                                                                            for _, label in TREND_PARTS)]
    previous = None
    for snapshot in ordered:
        lines.append(f"  {snapshot.taken_at.astimezone(timezone.utc):%Y-%m-%d %H:%M}  {snapshot.score:>5.1f}  "
                     f"{_signed(_change(snapshot.score, previous)):>6}  "
                     + "  ".join(f"{_part(snapshot.parts.get(key)):>8}" for key, _ in TREND_PARTS))
        previous = snapshot.score
    newest = ordered[-1]
    lines += ["", f"Needs at the newest snapshot ({_when(newest.taken_at)}):"]
    lines += [f"  - {need}" for need in newest.needs] or ["  (none)"]
    return "\n".join(lines)


def trend_json(snapshots: Sequence[UniformitySnapshot], *, school_id: str | None = None) -> dict[str, Any]:
    """The same as trend_text as one JSON-ready dict: snapshots oldest first, each with its change of score
    (null for the first), and the newest snapshot's strengths and needs (null when there is none)."""
    ordered = list(reversed(snapshots))
    rows, previous = [], None
    for snapshot in ordered:
        rows.append({"taken_at": _iso(snapshot.taken_at), "score": snapshot.score,
                     "change": _change(snapshot.score, previous), "parts": snapshot.parts})
        previous = snapshot.score
    newest = ordered[-1] if ordered else None
    return {"scope": "school" if school_id is not None else "district", "school_id": school_id or "",
            "snapshots": rows,
            "newest": None if newest is None else {"taken_at": _iso(newest.taken_at),
                                                   "strengths": list(newest.strengths),
                                                   "needs": list(newest.needs)}}
