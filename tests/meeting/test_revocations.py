"""`Revocations`: the columns a tabulation produced, read as `Revocation` tuples on demand."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpact.errors import InvariantViolation
from corpact.meeting.result import REVOCATION_SCHEMA, Revocation, Revocations

ROWS = (
    Revocation("I1", "H1", "common", "internet", "I2", "revoked by a later instruction"),
    Revocation(
        "I3", "H2", "common", "telephone", None, "superseded; the later instructions conflict"
    ),
)


def test_rows_columns_and_back() -> None:
    revocations = Revocations.of(ROWS)
    assert len(revocations) == 2
    assert revocations[1] == ROWS[1] and revocations[:1] == ROWS[:1]
    assert list(revocations) == list(ROWS)
    assert revocations == ROWS and revocations == list(ROWS)
    assert ROWS == revocations  # noqa: SIM300 - a tuple on the left defers to Revocations
    assert revocations != ROWS[:1]
    assert revocations[0].to_json_dict()["class"] == "common"


def test_equal_by_content_whatever_the_chunks() -> None:
    table = Revocations.of(ROWS)._table
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=1), schema=REVOCATION_SCHEMA)
    assert Revocations(rechunked) == Revocations(table)
    assert Revocations(table) != Revocations.of(ROWS[:1])


def test_columns_must_be_in_field_order() -> None:
    table = Revocations.of(ROWS)._table
    with pytest.raises(InvariantViolation):
        Revocations(table.select(list(reversed(table.column_names))))


def test_empty() -> None:
    assert len(Revocations.of([])) == 0 and Revocations.of([]) == ()
