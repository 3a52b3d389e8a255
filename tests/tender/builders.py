"""Build offer terms and tenders for tests through the same validation as a terms file."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from corpact.tender.amendments import Amendment
from corpact.tender.instructions import Tender
from corpact.tender.terms import OfferTerms
from corpact.tender.terms_file import OfferTermsModel, terms_from_model

DATA = Path(__file__).parent / "data"
NEW_YORK = ZoneInfo("America/New_York")
LAUNCH = datetime(2020, 1, 6, 9, 0, tzinfo=NEW_YORK)
EARLY = datetime(2020, 1, 17, 17, 0, tzinfo=NEW_YORK)
EXPIRATION = datetime(2020, 2, 3, 23, 59, tzinfo=NEW_YORK)


def case(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((DATA / f"{name}.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def offer_document(series: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "offer_id": "test-offer",
        "issuer": "Test Issuer",
        "time_zone": "America/New_York",
        "deadlines": {
            "launch_at": LAUNCH.isoformat(),
            "early_tender_at": EARLY.isoformat(),
            "withdrawal_at": EARLY.isoformat(),
            "expiration_at": EXPIRATION.isoformat(),
        },
        "settlement": {"final_settlement_date": "2020-02-05"},
        "series": series,
    }
    document.update(overrides)
    return document


def series_doc(series_id: str, level: int, outstanding: int, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": series_id,
        "title": series_id,
        "currency": "USD",
        "outstanding": str(outstanding),
        "priority_level": level,
        "tender_offer_consideration": "970.00",
        "early_tender_payment": "30.00",
    }
    doc.update(extra)
    return doc


def build_terms(document: dict[str, Any]) -> tuple[OfferTerms, tuple[Amendment, ...]]:
    return terms_from_model(OfferTermsModel.model_validate(document), "test terms")


def tender(
    instruction_id: str,
    series_id: str,
    principal: int,
    *,
    early: bool = True,
    offset_minutes: int = 0,
    guaranteed_delivery: bool = False,
) -> Tender:
    base = LAUNCH if early else EARLY
    return Tender(
        instruction_id=instruction_id,
        received_at=base + timedelta(minutes=1 + offset_minutes),
        series_id=series_id,
        principal=Decimal(principal),
        guaranteed_delivery=guaranteed_delivery,
    )
