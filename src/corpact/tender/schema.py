"""JSON Schemas of the tender input files, generated from the pydantic models.

Regenerate the committed copies with `python -m corpact.tender.schema docs/schemas`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from corpact.tender.instructions import MAX_INSTRUCTION_ID_CHARS
from corpact.tender.terms_file import DECIMAL_PATTERN, AmendmentModel, OfferTermsModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class InstructionRow(BaseModel):
    """One line of an instructions CSV file (every cell is text; empty cells are absent)."""

    model_config = ConfigDict(extra="forbid")

    instruction_id: str = Field(
        min_length=1,
        max_length=MAX_INSTRUCTION_ID_CHARS,
        description="unique per offer; the retry key",
    )
    received_at: str = Field(
        description="ISO 8601; without an offset it is read in the offer's time zone"
    )
    action: Literal["tender", "withdraw"]
    series: str | None = Field(default=None, description="tenders: the series id")
    principal: str | None = Field(
        default=None,
        pattern=DECIMAL_PATTERN.replace("^-?", "^"),
        description="tenders: principal (PAM for discount notes), a multiple of the increment",
    )
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$", description="checked")
    participant: str | None = Field(default=None, description="DTC / Euroclear participant")
    account: str | None = None
    reference: str | None = Field(default=None, description="VOI / Agent's Message id")
    guaranteed_delivery: Literal["true", "false", "yes", "no", "1", "0", ""] | None = None
    withdraws: str | None = Field(default=None, description="withdrawals: the tender's id")


def json_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, tuple[type[BaseModel], str]] = {
        "tender-offer.schema.json": (OfferTermsModel, "corpact tender offer terms"),
        "tender-amendment.schema.json": (AmendmentModel, "corpact tender offer amendment"),
        "tender-instruction-row.schema.json": (InstructionRow, "corpact instructions CSV row"),
    }
    result = {}
    for name, (model, title) in schemas.items():
        schema = model.model_json_schema()
        schema["$schema"] = DRAFT
        schema["title"] = title
        result[name] = schema
    return result


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else Path("docs/schemas")
    for name, schema in json_schemas().items():
        (target / name).write_text(schema_text(schema), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
