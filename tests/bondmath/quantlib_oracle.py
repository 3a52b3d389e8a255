"""QuantLib as a test oracle (never used by corpact itself). Prices are per 100 there."""

from __future__ import annotations

from datetime import date

import QuantLib as ql

from corpact.bondmath import DayCount, NoteTerms

FREQUENCIES = {1: ql.Annual, 2: ql.Semiannual, 4: ql.Quarterly, 12: ql.Monthly}


def qdate(d: date) -> ql.Date:
    return ql.Date(d.day, d.month, d.year)


def day_counter(day_count: DayCount, schedule: ql.Schedule | None = None) -> ql.DayCounter:
    if day_count is DayCount.THIRTY_360_US:
        return ql.Thirty360(ql.Thirty360.USA)
    if day_count is DayCount.THIRTY_E_360:
        return ql.Thirty360(ql.Thirty360.European)
    if day_count is DayCount.ACT_360:
        return ql.Actual360()
    if day_count is DayCount.ACT_365F:
        return ql.Actual365Fixed()
    if schedule is None:
        return ql.ActualActual(ql.ActualActual.ISMA)
    return ql.ActualActual(ql.ActualActual.ISMA, schedule)


def schedule(terms: NoteTerms) -> ql.Schedule:
    start = terms.issue_date
    if start is None:  # regular from one period before the first coupon date
        raise ValueError("the oracle needs an issue date")
    return ql.Schedule(
        qdate(start),
        qdate(terms.maturity),
        ql.Period(FREQUENCIES[terms.frequency]),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        terms.is_end_of_month,
    )


def bond(terms: NoteTerms) -> tuple[ql.FixedRateBond, ql.Schedule]:
    sched = schedule(terms)
    counter = day_counter(terms.day_count, sched)
    issue = terms.issue_date
    if issue is None:
        raise ValueError("the oracle needs an issue date")
    fixed = ql.FixedRateBond(
        0, 100.0, sched, [float(terms.coupon_rate)], counter, ql.Unadjusted, 100.0, qdate(issue)
    )
    return fixed, sched


def accrued_per_1000(terms: NoteTerms, settlement: date) -> float:
    ql.Settings.instance().evaluationDate = qdate(settlement)
    fixed, _ = bond(terms)
    return float(fixed.accruedAmount(qdate(settlement))) * 10


def clean_price_per_1000(terms: NoteTerms, settlement: date, yield_rate: float) -> float:
    ql.Settings.instance().evaluationDate = qdate(settlement)
    fixed, sched = bond(terms)
    counter = day_counter(terms.day_count, sched)
    price = ql.BondFunctions.cleanPrice(
        fixed,
        yield_rate,
        counter,
        ql.Compounded,
        FREQUENCIES[terms.frequency],
        qdate(settlement),
    )
    return float(price) * 10


def bond_yield(terms: NoteTerms, settlement: date, clean_per_100: float) -> float:
    ql.Settings.instance().evaluationDate = qdate(settlement)
    fixed, sched = bond(terms)
    counter = day_counter(terms.day_count, sched)
    found = fixed.bondYield(
        ql.BondPrice(clean_per_100, ql.BondPrice.Clean),
        counter,
        ql.Compounded,
        FREQUENCIES[terms.frequency],
        qdate(settlement),
        1e-15,
        500,
    )
    return float(found)
