"""The split executor: a pure function of (terms, register) -> new register, cash, journal.

Rounding happens per record holder and class; Cede & Co. is one holder. Shares are integers,
cash is `Decimal` in the currency's minor unit, fractions are exact rationals.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from corpact.errors import InputError, LifecycleError, Problem, check
from corpact.money import allocate_by_weights
from corpact.split.arith import (
    FractionalPolicy,
    cash_in_lieu,
    minor_to_decimal,
    settled_shares,
    split_position,
)
from corpact.split.awards import AwardOutcome, adjust_award, shares_reserved_by_awards
from corpact.split.model import HoldingForm
from corpact.split.register import Register, RegisterEntry, register_problems
from corpact.split.result import (
    ClassOutcome,
    HolderOutcome,
    Payment,
    PaymentStatus,
    SplitResult,
    build_event,
    build_journal,
)
from corpact.split.terms import ClassTerms, SplitTerms

# Exchange holder-count rules count round-lot holders: 100 shares or more.
ROUND_LOT_SHARES = 100


def apply_split(
    terms: SplitTerms, register: Register, *, executed_authorities: Collection[str] = ()
) -> SplitResult:
    """Execute the split on every record holder; raises before computing on any bad input.

    `executed_authorities` holds the ids of authorities already exercised (from the journal):
    an authority executes at most once.
    """
    if terms.authority.id in executed_authorities:
        raise LifecycleError(
            f"authority {terms.authority.id!r} was already executed; a split authority is "
            "single-use and a second application is rejected"
        )
    _check_register(terms, register)
    awards = tuple(adjust_award(a, terms.ratio) for a in terms.awards)
    holders: list[HolderOutcome] = []
    classes: list[ClassOutcome] = []
    for class_terms in terms.classes:
        entries = [e for e in register.entries if e.class_id == class_terms.id]
        class_holders = _holders_of_class(terms, entries)
        pooled = _pool_sale(terms, class_terms, class_holders)
        holders.extend(pooled[0])
        classes.append(_class_outcome(terms, class_terms, entries, pooled, awards))
    _check_authorized(terms, classes)
    new_register = _new_register(terms, holders, classes)
    payments = _payments(terms, holders)
    journal = build_journal(terms, classes)
    event = build_event(terms, register, classes, new_register, payments)
    return SplitResult(
        terms,
        register.source,
        tuple(classes),
        tuple(holders),
        new_register,
        payments,
        journal,
        awards,
        event,
    )


def _check_register(terms: SplitTerms, register: Register) -> None:
    problems = register_problems(register)
    known = {c.id: c for c in terms.classes}
    for entry in register.entries:
        class_terms = known.get(entry.class_id)
        if class_terms is None:
            problems.append(
                Problem(
                    "register-class-unknown",
                    f"class {entry.class_id!r} is not "
                    f"split by {terms.split_id!r} (classes: {sorted(known)})",
                    source=register.source,
                    line=entry.line,
                    field="class_id",
                )
            )
        elif entry.cusip and class_terms.old_cusip and entry.cusip != class_terms.old_cusip:
            hint = (
                " (the register is already split)" if entry.cusip == class_terms.new_cusip else ""
            )
            problems.append(
                Problem(
                    "register-cusip-mismatch",
                    f"CUSIP {entry.cusip} is not the pre-split CUSIP {class_terms.old_cusip}{hint}",
                    source=register.source,
                    line=entry.line,
                    field="cusip",
                )
            )
    agent = terms.fractional.sale_agent_holder_id
    if terms.fractional.policy is FractionalPolicy.aggregate_and_sell and agent is not None:
        problems.extend(
            Problem(
                "sale-agent-in-register",
                f"the sale agent account {agent!r} already holds "
                "shares; use a dedicated account for the pooled fractions",
                source=register.source,
                line=e.line,
                field="holder_id",
            )
            for e in register.entries
            if e.holder_id == agent
        )
    if problems:
        raise InputError(problems[:50])


def _holders_of_class(terms: SplitTerms, entries: list[RegisterEntry]) -> list[HolderOutcome]:
    ratio, frac = terms.ratio, terms.fractional
    cash_for = _cash_lookup(terms)
    outcomes: list[HolderOutcome] = []
    for entry in entries:
        whole, rem = split_position(entry.shares, ratio)
        new_shares = settled_shares(whole, rem, ratio, frac.policy)
        outcomes.append(HolderOutcome(entry, whole, rem, new_shares, cash_for(rem)))
    return outcomes


def _cash_lookup(terms: SplitTerms) -> Callable[[int], Decimal]:
    """Cash for a remainder, memoized: rem < n_old, so few distinct amounts exist."""
    ratio, frac = terms.ratio, terms.fractional
    zero = minor_to_decimal(0, frac.minor_units)
    price = frac.price
    if frac.policy is not FractionalPolicy.cash_in_lieu or price is None:
        check(frac.policy is not FractionalPolicy.cash_in_lieu, "cash in lieu without a price")
        return lambda rem: zero
    known: dict[int, Decimal] = {0: zero}

    def cash_for(rem: int) -> Decimal:
        amount = known.get(rem)
        if amount is None:
            amount = cash_in_lieu(
                rem, price.amount, price.basis, ratio, frac.minor_units, frac.cash_rounding
            )
            known[rem] = amount
        return amount

    return cash_for


def _pool_sale(
    terms: SplitTerms, class_terms: ClassTerms, holders: list[HolderOutcome]
) -> tuple[list[HolderOutcome], int, Decimal]:
    """Aggregate-and-sell: whole pooled shares sold, net proceeds shared pro rata by fraction."""
    frac = terms.fractional
    if frac.policy is not FractionalPolicy.aggregate_and_sell:
        return holders, 0, Decimal(0)
    sale = frac.sale_for(class_terms.id)
    check(sale is not None, "aggregate_and_sell without a sale passed validation")
    if sale is None:  # pragma: no cover
        return holders, 0, Decimal(0)
    pooled_rem = sum(h.remainder for h in holders)
    shares_sold = pooled_rem // terms.ratio.old_shares
    gross = shares_sold * sale.price_per_new_share
    # Proceeds are paid in the minor unit; a sub-cent residue of the sale is not distributed.
    gross_minor = Fraction(gross) * 10**frac.minor_units
    net = (
        minor_to_decimal(gross_minor.numerator // gross_minor.denominator, frac.minor_units)
        - sale.expenses
    )
    if net < 0:
        raise InputError.single(
            "sale-expenses-exceed-proceeds",
            f"expenses {sale.expenses} "
            f"exceed the gross proceeds {gross} of class {class_terms.id!r}",
            source=terms.source,
            field="fractional.sales",
        )
    quantum = Decimal(1).scaleb(-frac.minor_units)
    paid = [h for h in holders if h.remainder]
    shares = allocate_by_weights(net, [Decimal(h.remainder) for h in paid], quantum)
    cash_by_id = {id(h): c for h, c in zip(paid, shares, strict=True)}
    updated = [replace(h, cash=cash_by_id.get(id(h), h.cash)) for h in holders]
    return updated, shares_sold, net


def _class_outcome(
    terms: SplitTerms,
    class_terms: ClassTerms,
    entries: list[RegisterEntry],
    pooled: tuple[list[HolderOutcome], int, Decimal],
    awards: tuple[AwardOutcome, ...],
) -> ClassOutcome:
    holders, shares_sold, net_proceeds = pooled
    ratio = terms.ratio
    old_out = sum(e.shares for e in entries)
    held_new = sum(h.new_shares for h in holders)
    # Conservation, in integers: every old share is a whole new share or a remainder.
    check(
        sum(h.whole * ratio.old_shares + h.remainder for h in holders)
        == old_out * ratio.new_shares,
        "split did not conserve shares",
    )
    return ClassOutcome(
        class_terms=class_terms,
        ratio=ratio,
        policy=terms.fractional.policy,
        old_outstanding=old_out,
        new_outstanding=held_new + shares_sold,
        holders_before=sum(1 for e in entries if e.shares > 0),
        holders_after=sum(1 for h in holders if h.new_shares > 0),
        holders_with_fraction=sum(1 for h in holders if h.remainder),
        holders_cashed_out=sum(1 for h in holders if h.entry.shares > 0 and h.new_shares == 0),
        round_lot_holders_after=sum(1 for h in holders if h.new_shares >= ROUND_LOT_SHARES),
        remainder_total=sum(h.remainder for h in holders),
        shares_created_by_rounding=sum(max(h.new_shares - h.whole, 0) for h in holders),
        pooled_shares_sold=shares_sold,
        sale_net_proceeds=net_proceeds,
        cash_total=sum((h.cash for h in holders), Decimal(0)),
        reserved_for_awards=shares_reserved_by_awards(awards, class_terms.id),
        currency=terms.fractional.currency,
    )


def _check_authorized(terms: SplitTerms, classes: list[ClassOutcome]) -> None:
    problems = [
        Problem(
            "authorized-exceeded",
            f"class {c.class_terms.id!r}: {c.new_outstanding} "
            f"issued + {c.reserved_total} reserved exceeds {c.class_terms.authorized_after} "
            "authorized after the split",
            source=terms.source,
            field=f"classes[{i}]",
        )
        for i, c in enumerate(classes)
        if c.available_after < 0
    ]
    if problems:
        raise InputError(problems)


def _new_register(
    terms: SplitTerms, holders: list[HolderOutcome], classes: list[ClassOutcome]
) -> tuple[RegisterEntry, ...]:
    rows: list[RegisterEntry] = []
    cusips = {c.id: c.new_cusip or c.old_cusip for c in terms.classes}
    for h in holders:
        if h.new_shares == 0:
            continue
        e = h.entry
        certificate = e.holding_form is HoldingForm.certificate
        rows.append(
            RegisterEntry(
                e.holder_id,
                e.name,
                e.class_id,
                h.new_shares,
                e.holding_form,
                cusips[e.class_id],
                "unexchanged" if certificate else None,
            )
        )
    agent = terms.fractional.sale_agent_holder_id
    for c in classes:
        if c.pooled_shares_sold:
            check(agent is not None, "pooled shares without a sale agent")
            rows.append(
                RegisterEntry(
                    agent or "",
                    terms.fractional.sale_agent_name or agent or "",
                    c.class_terms.id,
                    c.pooled_shares_sold,
                    HoldingForm.nominee,
                    cusips[c.class_terms.id],
                )
            )
    return tuple(rows)


def _payments(terms: SplitTerms, holders: list[HolderOutcome]) -> tuple[Payment, ...]:
    payments = []
    for h in holders:
        if h.cash <= 0:
            continue
        certificate = h.entry.holding_form is HoldingForm.certificate
        status = PaymentStatus.held_until_surrender if certificate else PaymentStatus.payable
        payments.append(
            Payment(
                h.entry.holder_id,
                h.entry.name,
                h.entry.class_id,
                h.entry.holding_form,
                h.remainder,
                terms.ratio.old_shares,
                h.cash,
                terms.fractional.currency,
                status,
            )
        )
    return tuple(payments)
