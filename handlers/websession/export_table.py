"""The workshop export as a table: pseudonymous ids, answers, results, timestamps."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook

from storage.groups import ExportRow
from typology.types import TYPES

BASE_COLUMNS = [
    "participant",
    "run",
    "status",
    "questionnaire_version",  # runs started before a new version keep theirs
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


class Table:
    """The export as a header and rows of plain values (no DataFrame: 10,000 runs stay small)."""

    def __init__(self, columns: list[str], rows: list[list[object]]) -> None:
        self.columns, self.rows = columns, rows

    def __len__(self) -> int:
        """Returns the number of runs."""
        return len(self.rows)


def workshop_pseudonym(key: bytes, workshop_id: int, participant: str) -> str:
    """Returns the person's pseudonym in one workshop's export.

    A keyed hash of the workshop and the person's stored pseudonym: stable across exports of
    the same workshop, different in every other, so exports cannot be joined on it.
    """
    digest = hmac.new(key, f"{workshop_id}:{participant}".encode(), hashlib.sha256)
    return f"p-{digest.hexdigest()[:12]}"


def export_frame(
    rows: Iterable[ExportRow], item_ids: Sequence[str], *, key: bytes, workshop_id: int
) -> Table:
    """Returns one row per run; answer columns are named after the question ids."""
    columns = [*BASE_COLUMNS, *(f"affinity_{t.value}" for t in TYPES), *item_ids]
    out: list[list[object]] = []
    for row in rows:
        out.append(
            [
                workshop_pseudonym(key, workshop_id, row.participant),
                row.run_id,
                row.status,
                row.questionnaire_version,
                row.language,
                _iso(row.started_at),
                _iso(row.finished_at),
                row.team,
                row.main_type or "",
                row.second_type or "",
                row.mixed,
                *(row.affinities.get(t.value) for t in TYPES),
                *(row.answers.get(item, "") for item in item_ids),
            ]
        )
    return Table(columns, out)


def to_csv(table: Table) -> bytes:
    """Returns the table as UTF-8 CSV (with BOM, so spreadsheet programs read umlauts)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table) -> bytes:
    """Returns the table as an XLSX workbook, streamed row by row (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("runs")
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
