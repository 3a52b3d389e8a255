"""The committed JSON Schemas are the ones the models generate, and the examples satisfy them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from corpact.cli.common import examples_root
from corpact.tender.schema import json_schemas, schema_text
from corpact.tender.terms_file import read_document

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
FOLDER = examples_root() / "level3-2004"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_committed_schema_is_current(name: str) -> None:
    assert (SCHEMAS / name).read_text() == schema_text(json_schemas()[name]), (
        "regenerate with: python -m corpact.tender.schema docs/schemas"
    )


def test_examples_validate_against_the_schemas() -> None:
    schemas = json_schemas()
    offer = json.loads(json.dumps(read_document(FOLDER / "offer.toml"), default=str))
    jsonschema.validate(offer, schemas["tender-offer.schema.json"])
    amendment = read_document(FOLDER / "supplement-2004-11-17.toml")
    jsonschema.validate(amendment, schemas["tender-amendment.schema.json"])
    with (FOLDER / "instructions.csv").open() as handle:
        for row in csv.DictReader(handle):
            present = {k: v for k, v in row.items() if v != ""}
            jsonschema.validate(present, schemas["tender-instruction-row.schema.json"])


def test_a_float_rate_fails_the_schema_too() -> None:
    offer = json.loads(json.dumps(read_document(FOLDER / "offer.toml"), default=str))
    offer["fx_rates"][0]["rate"] = 1.2973
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(offer, json_schemas()["tender-offer.schema.json"])
