"""Pydantic models of one CSV row of the register and of the votes file, for their JSON Schemas.

The loaders parse the CSVs leniently (a bad vote row becomes a rejection, not a crash); these
models document the row format and generate `docs/schemas/meeting-*.schema.json`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from corpact.meeting.register import SHARE_DIGITS, SHARE_PLACES

# At most `SHARE_DIGITS` digits before the point and `SHARE_PLACES` after.
SHARES_NUMBER = rf"\d{{1,{SHARE_DIGITS}}}(\.\d{{1,{SHARE_PLACES}}})?"
SHARES_PATTERN = rf"^-?{SHARES_NUMBER}$"


class RegisterCsvRow(BaseModel):
    """One record-date position: a holder's shares of one class."""

    model_config = ConfigDict(extra="forbid", title="Meeting register CSV row")

    holder_id: str = Field(min_length=1, description="record holder or DTC participant id")
    name: str = ""
    class_: str = Field(alias="class", min_length=1, description="share class id")
    shares: str = Field(
        pattern=rf"^{SHARES_NUMBER}$",
        description=f"exact decimal, <= {SHARE_DIGITS} digits, <= {SHARE_PLACES} places",
    )
    type: Literal["registered", "nominee"] = Field(
        description="registered holder, or nominee / DTC participant (may split its votes)"
    )


class VotesCsvRow(BaseModel):
    """One line of a vote instruction; rows sharing instruction_id form one instruction."""

    model_config = ConfigDict(extra="forbid", title="Meeting votes CSV row")

    instruction_id: str = Field(min_length=1)
    executed_at: str = Field(description="ISO 8601; without an offset, the meeting's time zone")
    voter: str = Field(min_length=1, description="holder_id on the register")
    class_: str = Field(default="", alias="class", description="empty: every class held")
    channel: Literal["proxy_card", "internet", "telephone", "in_person", "nominee"]
    proposal: str = Field(min_length=1)
    nominee: str = Field(default="", description="nominee id (director elections only)")
    choice: Literal[
        "for", "against", "abstain", "withhold", "1_year", "2_years", "3_years", "broker_non_vote"
    ]
    shares: str = Field(
        default="", pattern=SHARES_PATTERN + "|^$", description="empty: the whole position"
    )
    discretionary: Literal["", "true", "false", "yes", "no", "1", "0"] = Field(
        default="", description="true for a broker's discretionary vote (routine items only)"
    )


def register_json_schema() -> dict[str, Any]:
    return RegisterCsvRow.model_json_schema()


def votes_json_schema() -> dict[str, Any]:
    return VotesCsvRow.model_json_schema()
