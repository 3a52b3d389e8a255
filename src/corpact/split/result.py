"""What a split execution produces: holder and class outcomes, payments, journal, event."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from corpact.errors import check
from corpact.split.arith import FractionalPolicy, fraction_text
from corpact.split.awards import AwardOutcome
from corpact.split.model import HoldingForm
from corpact.split.ratio import SplitRatio
from corpact.split.register import Register, RegisterEntry, register_csv
from corpact.split.terms import ClassTerms, SplitTerms

EVENT_KIND = "split.executed"
COMMON_STOCK = "Common stock (par)"
APIC = "Additional paid-in capital"
CASH_IN_LIEU_PAYABLE = "Cash in lieu payable"


@dataclass(frozen=True, slots=True)
class HolderOutcome:
    """One record holder in one class: `whole * n_old + remainder == shares * m_new`."""

    entry: RegisterEntry
    whole: int
    remainder: int
    new_shares: int
    cash: Decimal


class PaymentStatus(StrEnum):
    payable = "payable"
    held_until_surrender = "held_until_surrender"


@dataclass(frozen=True, slots=True)
class Payment:
    holder_id: str
    name: str
    class_id: str
    holding_form: HoldingForm
    remainder: int
    remainder_denominator: int
    amount: Decimal
    currency: str
    status: PaymentStatus

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.remainder, self.remainder_denominator)


@dataclass(frozen=True, slots=True)
class ClassOutcome:
    """Before/after figures of one class."""

    class_terms: ClassTerms
    ratio: SplitRatio
    policy: FractionalPolicy
    old_outstanding: int
    new_outstanding: int
    holders_before: int
    holders_after: int
    holders_with_fraction: int
    holders_cashed_out: int
    round_lot_holders_after: int
    remainder_total: int
    shares_created_by_rounding: int
    pooled_shares_sold: int
    sale_net_proceeds: Decimal
    cash_total: Decimal
    reserved_for_awards: int
    currency: str

    @property
    def exact_new(self) -> Fraction:
        return self.old_outstanding * self.ratio.factor

    @property
    def fractions_total(self) -> Fraction:
        """Sum of holders' fractions, in new shares."""
        return Fraction(self.remainder_total, self.ratio.old_shares)

    @property
    def pool_residual(self) -> Fraction:
        """Pooled fractions left unsold (aggregate-and-sell), in new shares."""
        if self.policy is not FractionalPolicy.aggregate_and_sell:
            return Fraction(0)
        return self.fractions_total - self.pooled_shares_sold

    @property
    def shares_cancelled(self) -> Fraction:
        """Exact entitlement not issued as shares: paid in cash, sold, or cancelled."""
        return self.exact_new - self.new_outstanding

    @property
    def reserved_total(self) -> int:
        return self.reserved_for_awards + self.class_terms.reserved_after

    @property
    def available_after(self) -> int:
        return self.class_terms.authorized_after - self.new_outstanding - self.reserved_total

    @property
    def common_stock_before(self) -> Decimal:
        return self.old_outstanding * self.class_terms.par_value_before

    @property
    def common_stock_after(self) -> Decimal:
        return self.new_outstanding * self.class_terms.par_value_after

    @property
    def par_reclass(self) -> Decimal:
        """Amount moved from common stock to APIC (negative: from APIC to common stock)."""
        return self.common_stock_before - self.common_stock_after

    def to_json_dict(self) -> dict[str, Any]:
        c = self.class_terms
        return {
            "class_id": c.id,
            "old_outstanding": self.old_outstanding,
            "new_outstanding": self.new_outstanding,
            "exact_new": fraction_text(self.exact_new),
            "fractions_total": fraction_text(self.fractions_total),
            "shares_cancelled": fraction_text(self.shares_cancelled),
            "shares_created_by_rounding": self.shares_created_by_rounding,
            "pooled_shares_sold": self.pooled_shares_sold,
            "pool_residual": fraction_text(self.pool_residual),
            "sale_net_proceeds": str(self.sale_net_proceeds),
            "holders_before": self.holders_before,
            "holders_after": self.holders_after,
            "holders_with_fraction": self.holders_with_fraction,
            "holders_cashed_out": self.holders_cashed_out,
            "round_lot_holders_after": self.round_lot_holders_after,
            "cash_total": str(self.cash_total),
            "currency": self.currency,
            "authorized_before": c.authorized_before,
            "authorized_after": c.authorized_after,
            "authorized_rule": c.authorized_rule.value,
            "reserved_after": self.reserved_total,
            "available_for_issuance_after": self.available_after,
            "par_value_before": str(c.par_value_before),
            "par_value_after": str(c.par_value_after),
            "common_stock_before": str(self.common_stock_before),
            "common_stock_after": str(self.common_stock_after),
            "par_reclass_to_apic": str(self.par_reclass),
            "old_cusip": c.old_cusip,
            "new_cusip": c.new_cusip,
        }


@dataclass(frozen=True, slots=True)
class JournalLine:
    account: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True, slots=True)
class JournalEntry:
    memo: str
    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        debits = sum((ln.debit for ln in self.lines), Decimal(0))
        credits = sum((ln.credit for ln in self.lines), Decimal(0))
        check(debits == credits, f"journal entry {self.memo!r} does not balance")

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "memo": self.memo,
            "lines": [
                {"account": ln.account, "debit": str(ln.debit), "credit": str(ln.credit)}
                for ln in self.lines
            ],
        }


def build_journal(terms: SplitTerms, classes: list[ClassOutcome]) -> tuple[JournalEntry, ...]:
    """Par reclassification per class, then cash in lieu (section 7 of the split rules)."""
    entries: list[JournalEntry] = []
    for c in classes:
        amount = c.par_reclass
        if amount == 0:
            continue
        debit, credit = (COMMON_STOCK, APIC) if amount > 0 else (APIC, COMMON_STOCK)
        stock = f"{debit} [{c.class_terms.id}]" if debit == COMMON_STOCK else debit
        other = f"{credit} [{c.class_terms.id}]" if credit == COMMON_STOCK else credit
        entries.append(
            JournalEntry(
                f"{terms.ratio} split of {c.class_terms.id}: par of "
                f"{c.old_outstanding} -> {c.new_outstanding} shares",
                (
                    JournalLine(stock, abs(amount), Decimal(0)),
                    JournalLine(other, Decimal(0), abs(amount)),
                ),
            )
        )
    cash = sum((c.cash_total for c in classes), Decimal(0))
    if terms.fractional.policy is FractionalPolicy.cash_in_lieu and cash > 0:
        entries.append(
            JournalEntry(
                f"cash in lieu of fractional shares ({terms.fractional.currency})",
                (
                    JournalLine(APIC, cash, Decimal(0)),
                    JournalLine(CASH_IN_LIEU_PAYABLE, Decimal(0), cash),
                ),
            )
        )
    return tuple(entries)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def payments_csv(payments: tuple[Payment, ...]) -> str:
    """The cash-in-lieu payment file: one line per record holder and class paid."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "holder_id",
            "name",
            "class_id",
            "holding_form",
            "fraction",
            "amount",
            "currency",
            "status",
        ]
    )
    writer.writerows(
        [
            p.holder_id,
            p.name,
            p.class_id,
            p.holding_form.value,
            f"{p.remainder}/{p.remainder_denominator}",
            str(p.amount),
            p.currency,
            p.status.value,
        ]
        for p in payments
    )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class SplitExecuted:
    """The journal event of one execution: kind "split.executed", JSON-serializable payload."""

    split_id: str
    issuer: str
    authority_id: str
    ratio: str
    direction: str
    decided_on: str
    effective_at: str
    fractional_policy: str
    currency: str
    cash_total: str
    classes: tuple[dict[str, Any], ...]
    register_sha256: str
    new_register_sha256: str
    payments_sha256: str
    synthetic: bool

    kind = EVENT_KIND

    def to_payload(self) -> dict[str, Any]:
        return {
            "kind": EVENT_KIND,
            "split_id": self.split_id,
            "issuer": self.issuer,
            "authority_id": self.authority_id,
            "ratio": self.ratio,
            "direction": self.direction,
            "decided_on": self.decided_on,
            "effective_at": self.effective_at,
            "fractional_policy": self.fractional_policy,
            "currency": self.currency,
            "cash_total": self.cash_total,
            "classes": [dict(c) for c in self.classes],
            "register_sha256": self.register_sha256,
            "new_register_sha256": self.new_register_sha256,
            "payments_sha256": self.payments_sha256,
            "synthetic": self.synthetic,
        }


def build_event(
    terms: SplitTerms,
    register: Register,
    classes: list[ClassOutcome],
    new_register: tuple[RegisterEntry, ...],
    payments: tuple[Payment, ...],
) -> SplitExecuted:
    res = terms.resolution
    return SplitExecuted(
        split_id=terms.split_id,
        issuer=terms.issuer,
        authority_id=terms.authority.id,
        ratio=str(terms.ratio),
        direction=terms.ratio.direction.value,
        decided_on=res.decided_on.isoformat(),
        effective_at=res.effective_at.isoformat(),
        fractional_policy=terms.fractional.policy.value,
        currency=terms.fractional.currency,
        cash_total=str(sum((c.cash_total for c in classes), Decimal(0))),
        classes=tuple(
            {
                "class_id": c.class_terms.id,
                "old_outstanding": c.old_outstanding,
                "new_outstanding": c.new_outstanding,
                "cash_total": str(c.cash_total),
                "old_cusip": c.class_terms.old_cusip,
                "new_cusip": c.class_terms.new_cusip,
            }
            for c in classes
        ),
        register_sha256=sha256_text(register_csv(register.entries)),
        new_register_sha256=sha256_text(register_csv(new_register)),
        payments_sha256=sha256_text(payments_csv(payments)),
        synthetic=terms.synthetic,
    )


@dataclass(frozen=True, slots=True)
class SplitResult:
    terms: SplitTerms
    register_source: str
    classes: tuple[ClassOutcome, ...]
    holders: tuple[HolderOutcome, ...]
    new_register: tuple[RegisterEntry, ...]
    payments: tuple[Payment, ...]
    journal: tuple[JournalEntry, ...]
    awards: tuple[AwardOutcome, ...]
    event: SplitExecuted

    @property
    def cash_total(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))

    def to_json_dict(self) -> dict[str, Any]:
        t = self.terms
        price = t.fractional.price
        return {
            "split": {
                "id": t.split_id,
                "issuer": t.issuer,
                "jurisdiction": t.jurisdiction,
                "synthetic": t.synthetic,
                "note": t.note,
            },
            "authority": {
                "id": t.authority.id,
                "granted_by": t.authority.granted_by,
                "approved_on": t.authority.approved_on.isoformat(),
                "allowed": t.authority.describe_ratios(),
                "delegate": t.authority.delegate,
                "state_after": "executed",
            },
            "ratio": str(t.ratio),
            "direction": t.ratio.direction.value,
            "effective_at": t.resolution.effective_at.isoformat(),
            "fractional": {
                "policy": t.fractional.policy.value,
                "currency": t.fractional.currency,
                "cash_rounding": t.fractional.cash_rounding.value,
                "price": None
                if price is None
                else {
                    "amount": str(price.amount),
                    "basis": price.basis.value,
                    "source": price.source.value,
                    "class_id": price.class_id,
                    "first_day": price.first_day.isoformat(),
                    "last_day": price.last_day.isoformat(),
                    "days": price.days,
                },
            },
            "classes": [c.to_json_dict() for c in self.classes],
            "cash_total": str(self.cash_total),
            "payments": len(self.payments),
            "journal": [e.to_json_dict() for e in self.journal],
            "awards": [_award_json(a) for a in self.awards],
            "event": self.event.to_payload(),
        }


def _award_json(a: AwardOutcome) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "id": a.id,
        "kind": a.kind.value,
        "class_id": a.class_id,
        "shares_before": a.shares_before,
        "shares_after": a.shares_after,
        "price_before": text(a.price_before),
        "price_after": text(a.price_after),
        "fraction_per_right_before": text(a.fraction_per_right_before),
        "fraction_per_right_after": text(a.fraction_per_right_after),
        "aggregate_cost_change": text(a.aggregate_cost_change),
        "share_rounding": a.share_rounding.value,
        "price_rounding": a.price_rounding.value,
    }
