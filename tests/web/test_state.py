"""The per-user gate of the Mini App's API (no browser, no bot)."""

from __future__ import annotations

from web.state import InFlight


def test_in_flight_limit_counts_per_user() -> None:
    gate = InFlight(limit=2)
    with gate.enter(1) as first, gate.enter(1) as second, gate.enter(1) as third:
        assert (first, second, third) == (True, True, False)
        with gate.enter(2) as other:
            assert other  # another user is not held up
    assert len(gate) == 0  # nothing kept for idle users
    with gate.enter(1) as again:
        assert again
