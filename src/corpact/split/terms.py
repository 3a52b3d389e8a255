"""The resolved, validated terms of one split: authority, resolution, classes, policies, awards.

Everything here is plain data (frozen dataclasses) built by `corpact.split.loader`; the rules
that decide whether a resolution may exercise an authority are the pure functions below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from corpact.split.arith import CashRounding, FractionalPolicy, PriceBasis
from corpact.split.model import (
    AuthorizedRule,
    AwardKind,
    ParRule,
    PriceRounding,
    PriceSource,
    ShareRounding,
)
from corpact.split.ratio import RatioRange, SplitRatio

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class RuleBreach:
    """One broken rule, located by its path in the split file."""

    rule: str
    message: str
    path: FieldPath


@dataclass(frozen=True, slots=True)
class SplitAuthority:
    """What the stockholders (or another organ) authorized: which ratios, until when, to whom."""

    id: str
    granted_by: str
    approved_on: date
    passed: bool
    ratios: frozenset[SplitRatio] | None
    ratio_range: RatioRange | None
    expires_on: date | None
    expires_at_meeting: str | None
    expiry_meeting_date: date | None
    delegate: str
    # Set when a tabulated meeting granted the authority: its certification can be checked.
    meeting_id: str | None = None
    proposal_id: str | None = None

    def allows(self, ratio: SplitRatio) -> bool:
        if self.ratios is not None:
            return ratio in self.ratios
        return self.ratio_range is not None and self.ratio_range.contains(ratio)

    def describe_ratios(self) -> str:
        if self.ratios is not None:
            ordered = sorted(self.ratios, key=lambda r: r.factor, reverse=True)
            return ", ".join(str(r) for r in ordered)
        return f"{self.ratio_range} (inclusive)"


@dataclass(frozen=True, slots=True)
class BoardResolution:
    ratio: SplitRatio
    decided_on: date
    decided_by: str
    effective_at: datetime
    abandoned: bool
    abandoned_on: date | None
    certificate_filed_on: date | None
    first_adjusted_trading_day: date | None
    expiry_meeting_not_held_attested: bool


def authority_breaches(authority: SplitAuthority, resolution: BoardResolution) -> list[RuleBreach]:
    """Every reason the resolution may not exercise the authority (empty: it may)."""
    found: list[RuleBreach] = []
    if not authority.passed:
        found.append(
            RuleBreach(
                "proposal-not-passed",
                f"authority {authority.id!r} was not approved: the proposal did not pass",
                ("authority",),
            )
        )
    if resolution.abandoned:
        when = f" on {resolution.abandoned_on}" if resolution.abandoned_on else ""
        found.append(
            RuleBreach(
                "authority-abandoned",
                f"the split was abandoned{when}; an abandoned authority cannot be exercised",
                ("resolution", "abandoned"),
            )
        )
    if not authority.allows(resolution.ratio):
        found.append(
            RuleBreach(
                "ratio-not-authorized",
                f"ratio {resolution.ratio} was not "
                f"authorized; allowed: {authority.describe_ratios()}",
                ("resolution", "ratio"),
            )
        )
    if resolution.decided_by != authority.delegate:
        found.append(
            RuleBreach(
                "delegate-mismatch",
                f"decided by {resolution.decided_by!r} but "
                f"the authority was delegated to {authority.delegate!r}",
                ("resolution", "decided_by"),
            )
        )
    found.extend(_timing_breaches(authority, resolution))
    return found


def _timing_breaches(authority: SplitAuthority, resolution: BoardResolution) -> list[RuleBreach]:
    found: list[RuleBreach] = []
    effective_on = resolution.effective_at.date()
    if resolution.decided_on < authority.approved_on:
        found.append(
            RuleBreach(
                "decided-before-approval",
                f"decided on {resolution.decided_on}, "
                f"before the authority was approved on {authority.approved_on}",
                ("resolution", "decided_on"),
            )
        )
    if effective_on < resolution.decided_on:
        found.append(
            RuleBreach(
                "effective-before-decision",
                f"effective {effective_on} is before the decision of {resolution.decided_on}",
                ("resolution", "effective_at"),
            )
        )
    if authority.expires_on is not None:
        for name, day in (("decided_on", resolution.decided_on), ("effective_at", effective_on)):
            if day > authority.expires_on:
                found.append(
                    RuleBreach(
                        "authority-expired",
                        f"{name} {day} is after the authority expired on {authority.expires_on}",
                        ("resolution", name),
                    )
                )
    if authority.expires_at_meeting is not None:
        meeting_on = authority.expiry_meeting_date
        if meeting_on is not None and effective_on >= meeting_on:
            found.append(
                RuleBreach(
                    "authority-expired",
                    f"effective {effective_on} is not "
                    f"before the {authority.expires_at_meeting} "
                    f"({meeting_on}), when the authority ends",
                    ("resolution", "effective_at"),
                )
            )
        if meeting_on is None and not resolution.expiry_meeting_not_held_attested:
            found.append(
                RuleBreach(
                    "expiry-needs-attestation",
                    "the authority ends at the "
                    f"{authority.expires_at_meeting}, whose date is unknown; "
                    "set expiry_meeting_not_held_attested: true to attest it "
                    "has not been held",
                    ("resolution", "expiry_meeting_not_held_attested"),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class ClassTerms:
    id: str
    par_value_before: Decimal
    par_rule: ParRule
    par_value_after: Decimal
    authorized_before: int
    authorized_rule: AuthorizedRule
    authorized_after: int
    reserved_after: int
    old_cusip: str | None
    new_cusip: str | None


@dataclass(frozen=True, slots=True)
class CashPrice:
    """The price cash in lieu is paid at, with its provenance."""

    amount: Decimal
    basis: PriceBasis
    source: PriceSource
    class_id: str | None
    first_day: date
    last_day: date
    days: int


@dataclass(frozen=True, slots=True)
class SaleTerms:
    class_id: str
    price_per_new_share: Decimal
    expenses: Decimal
    sold_on: date | None


@dataclass(frozen=True, slots=True)
class FractionalTerms:
    policy: FractionalPolicy
    currency: str
    minor_units: int
    price: CashPrice | None
    cash_rounding: CashRounding
    sale_agent_holder_id: str | None
    sale_agent_name: str | None
    sales: tuple[SaleTerms, ...]

    def sale_for(self, class_id: str) -> SaleTerms | None:
        return next((s for s in self.sales if s.class_id == class_id), None)


@dataclass(frozen=True, slots=True)
class AwardTerms:
    id: str
    kind: AwardKind
    class_id: str
    shares: int | None
    exercise_price: Decimal | None
    fraction_per_right: Decimal | None
    share_rounding: ShareRounding
    price_rounding: PriceRounding


@dataclass(frozen=True, slots=True)
class SplitTerms:
    split_id: str
    issuer: str
    jurisdiction: str
    synthetic: bool
    note: str | None
    authority: SplitAuthority
    resolution: BoardResolution
    classes: tuple[ClassTerms, ...]
    fractional: FractionalTerms
    awards: tuple[AwardTerms, ...]
    source: str = "split file"

    @property
    def ratio(self) -> SplitRatio:
        return self.resolution.ratio

    def class_terms(self, class_id: str) -> ClassTerms | None:
        return next((c for c in self.classes if c.id == class_id), None)

    @property
    def class_ids(self) -> Sequence[str]:
        return [c.id for c in self.classes]
