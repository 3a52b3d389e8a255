"""JSON Schemas of the split input files, generated from the pydantic models.

Regenerate the committed copies with `python -m corpact.split.schema docs/schemas`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from corpact.split.model import RegisterRowIn, SplitFileIn


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every split input format."""
    split = SplitFileIn.model_json_schema(by_alias=True)
    split["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    split["title"] = "corpact split file"
    row = RegisterRowIn.model_json_schema(by_alias=True)
    row["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    row["title"] = "corpact register row (one CSV line; shares as a whole number)"
    return {"split.schema.json": split, "split-register-row.schema.json": row}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else Path("docs/schemas")
    for name, schema in json_schemas().items():
        (target / name).write_text(schema_text(schema), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
