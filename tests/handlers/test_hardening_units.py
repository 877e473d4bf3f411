"""Pure parts of the issue-11 hardening: callback ids in range, refused-command log lines."""

from __future__ import annotations

import pytest

from handlers.callbacks import MAX_ID, BadCallback, parse


@pytest.mark.parametrize(
    "field", [str(MAX_ID + 1), "9" * 19, "99999999999999999999", "-1", "1_0", "+5"]
)
def test_int_arg_refuses_ids_no_database_column_holds(field: str) -> None:
    with pytest.raises(BadCallback):
        parse(f"r:{field}").int_arg(0)


@pytest.mark.parametrize("field", ["0", "7", str(MAX_ID)])
def test_int_arg_accepts_every_id_a_column_holds(field: str) -> None:
    assert parse(f"r:{field}").int_arg(0) == int(field)
