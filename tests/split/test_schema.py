"""The committed JSON Schemas equal the generated ones, and the shipped example validates."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from corpact.cli.common import examples_root
from corpact.split.schema import json_schemas, schema_text

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_committed_schema_is_current(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == schema_text(json_schemas()[name]), (
        f"regenerate with: python -m corpact.split.schema docs/schemas ({name})"
    )


def test_example_split_file_validates_against_the_schema() -> None:
    data = yaml.safe_load((examples_root() / "level3-2007-split" / "split.yaml").read_text())
    # YAML dates load as date objects; the schema describes their text form.
    jsonschema.validate(_dates_as_text(data), json_schemas()["split.schema.json"])


def test_schema_rejects_a_float_price() -> None:
    data = yaml.safe_load((examples_root() / "level3-2007-split" / "split.yaml").read_text())
    data["fractional"]["price"]["close"] = 3.02
    data = _dates_as_text(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schemas()["split.schema.json"])


def _dates_as_text(value: object) -> object:
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
