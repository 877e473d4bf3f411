"""The session export as a table: pseudonymous ids, answers, results, timestamps."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from storage.groups import ExportRow
from typology.types import TYPES

BASE_COLUMNS = [
    "participant",
    "run",
    "status",
    "language",
    "started_at",
    "finished_at",
    "team",
    "main_type",
    "second_type",
    "mixed",
]


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


def export_frame(rows: Sequence[ExportRow], item_ids: Sequence[str]) -> pd.DataFrame:
    """Returns one row per run; answer columns are named after the question ids."""
    affinity = [f"affinity_{t.value}" for t in TYPES]
    records = []
    for row in rows:
        record: dict[str, object] = {
            "participant": row.participant,
            "run": row.run_id,
            "status": row.status,
            "language": row.language,
            "started_at": _iso(row.started_at),
            "finished_at": _iso(row.finished_at),
            "team": row.team,
            "main_type": row.main_type or "",
            "second_type": row.second_type or "",
            "mixed": row.mixed,
        }
        record.update({f"affinity_{t.value}": row.affinities.get(t.value) for t in TYPES})
        record.update({item: row.answers.get(item, "") for item in item_ids})
        records.append(record)
    return pd.DataFrame.from_records(records, columns=[*BASE_COLUMNS, *affinity, *item_ids])


def to_csv(frame: pd.DataFrame) -> bytes:
    """Returns the table as UTF-8 CSV (with BOM, so spreadsheet programs read umlauts)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    """Returns the table as an XLSX workbook."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="runs")
    return buf.getvalue()
