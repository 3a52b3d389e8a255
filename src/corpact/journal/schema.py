"""Pydantic models of the files `corpact audit verify` reads, for their JSON Schemas.

Verification itself parses these files by hand and strictly (`corpact.journal.export`); the
models document the shapes and generate docs/schemas/*.schema.json.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BASE64 = r"^[A-Za-z0-9+/]*={0,2}$"


class ReceiptDocument(BaseModel):
    """A receipt: one leaf, its inclusion proof and the signed checkpoint it is proven against."""

    model_config = ConfigDict(extra="allow", title="corpact receipt")
    format: Literal["corpact-receipt/1"]
    origin: str = Field(min_length=1, description="log origin, first line of the checkpoint")
    idempotency_key: str = Field(min_length=1)
    index: int = Field(ge=0, description="0-based leaf index")
    tree_size: int = Field(ge=1, description="size of the tree the proof is for")
    leaf_data: str = Field(pattern=BASE64, description="base64 of the exact leaf bytes")
    leaf_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256(0x00 || leaf bytes)")
    inclusion_proof: list[str] = Field(description="base64 hashes, leaf to root")
    checkpoint: str = Field(description="C2SP signed note: origin, size, root, signatures")


class ExportHeader(BaseModel):
    """First line of an export."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["corpact-journal-export/1"]
    origin: str = Field(min_length=1)
    tree_size: int = Field(ge=0)


class ExportCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checkpoint: str = Field(description="C2SP signed note, ascending tree size")


class ExportLeaf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=0)
    leaf_data: str = Field(pattern=BASE64)


class ExportLine(BaseModel):
    """One line of a corpact journal export (JSON Lines): header, checkpoints, then leaves."""

    model_config = ConfigDict(title="corpact journal export line")
    line: ExportHeader | ExportCheckpoint | ExportLeaf


def schemas() -> dict[str, str]:
    """File name -> JSON Schema text, as committed under docs/schemas/."""
    export = ExportLine.model_json_schema()["$defs"]
    export_schema = {
        "title": "corpact journal export line",
        "description": ExportLine.__doc__,
        "anyOf": [
            {"$ref": f"#/$defs/{name}"}
            for name in ("ExportHeader", "ExportCheckpoint", "ExportLeaf")
        ],
        "$defs": export,
    }
    return {
        "journal-receipt.schema.json": json.dumps(ReceiptDocument.model_json_schema(), indent=2),
        "journal-export-line.schema.json": json.dumps(export_schema, indent=2),
    }
