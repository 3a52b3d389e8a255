"""The committed JSON Schemas equal the generated ones, and real files validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from corpact.journal.schema import schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_committed_schemas_are_current() -> None:
    for name, text in schemas().items():
        assert (SCHEMAS / name).read_text() == text + "\n", name


def test_export_and_receipt_shapes_validate() -> None:
    line_schema = json.loads(schemas()["journal-export-line.schema.json"])
    receipt_schema = json.loads(schemas()["journal-receipt.schema.json"])
    jsonschema.validate(
        {"format": "corpact-journal-export/1", "origin": "o", "tree_size": 0}, line_schema
    )
    jsonschema.validate({"index": 0, "leaf_data": "eyJ9"}, line_schema)
    receipt = {
        "format": "corpact-receipt/1",
        "origin": "o",
        "idempotency_key": "k",
        "index": 0,
        "tree_size": 1,
        "leaf_data": "eyJ9",
        "leaf_hash": "0" * 64,
        "inclusion_proof": [],
        "checkpoint": "o\n1\nAA==\n\n— o AAAA\n",
    }
    jsonschema.validate(receipt, receipt_schema)
    try:
        jsonschema.validate({**receipt, "index": -1}, receipt_schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a negative index must not validate")
