"""`corpact price`: Bond pricing calculators (fixed-spread tender pricing).

Rates on the command line are in percent (``--coupon 4.350``); prices are per 1,000 principal.
No business rules here: every number comes from `corpact.bondmath`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import typer
from rich.table import Table

from corpact.bondmath import (
    DayCount,
    NoteTerms,
    PriceTo,
    PricingConvention,
    accrued_interest,
    accrued_interest_per_1000,
    day_count_days,
    last_coupon_on_or_before,
    next_coupon_after,
    parse_day_count,
    price_fixed_spread,
)
from corpact.bondmath.solver import yield_from_price
from corpact.bondmath.treasury import parse_treasury_price, treasury_yield_from_bid
from corpact.cli.common import DemoStep, OutputFormat, new_app, stdout_console, write_out
from corpact.errors import InputError, Problem
from corpact.money import DECIMAL_CONTEXT, round_half_up, round_half_up_to_cent
from corpact.money.rounding import input_number_problem
from corpact.timeutil import parse_date

app = new_app("Bond pricing calculators (fixed-spread tender pricing).")

HUNDRED = Decimal(100)
Row = dict[str, str]
Command = TypeVar("Command", bound=Callable[..., None])


def numbers_checked(command: Command) -> Command:
    """`command` refusing, before it computes anything, any decimal option that is not an input
    number (`input_number_problem`): every problem at once, each named by its option."""

    @functools.wraps(command)
    def checked(**options: Any) -> None:
        problems = [
            (name, input_number_problem(value))
            for name, value in options.items()
            if isinstance(value, Decimal)
        ]
        found = [(name, problem) for name, problem in problems if problem is not None]
        if found:
            raise InputError(
                Problem("number-range", problem, field="--" + name.replace("_", "-"))
                for name, problem in found
            )
        command(**options)

    return checked  # type: ignore[return-value]


COUPON = typer.Option(..., "--coupon", help="annual coupon rate in percent, e.g. 4.350")
MATURITY = typer.Option(..., "--maturity", help="maturity date, YYYY-MM-DD")
SETTLEMENT = typer.Option(..., "--settlement", help="settlement date, YYYY-MM-DD")
FREQUENCY = typer.Option(2, "--frequency", help="coupons a year: 1, 2, 4 or 12")
DAY_COUNT = typer.Option(
    "30/360", "--day-count", help="30/360, 30E/360, ACT/ACT-ICMA, ACT/360 or ACT/365F"
)
ISSUE = typer.Option(None, "--issue-date", help="dated date: interest accrues from it")
FIRST = typer.Option(None, "--first-coupon", help="first coupon date (on the schedule)")
PAR_CALL = typer.Option(None, "--par-call", help="par call date (price to the lower)")
FORMAT = typer.Option(OutputFormat.table, "--format", help="table, json or csv")


def _percent(value: Decimal, field: str) -> Decimal:
    if not value.is_finite():
        raise InputError.single("rate-finite", f"{value} is not a number", field=field)
    return DECIMAL_CONTEXT.divide(value, HUNDRED)


def _as_percent(rate: Decimal) -> str:
    return _plain(DECIMAL_CONTEXT.multiply(rate, HUNDRED))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _date(text: str | None, option: str) -> date | None:
    return None if text is None else parse_date(text, field=option)


def _terms(
    coupon: Decimal,
    maturity: str,
    frequency: int,
    day_count: str,
    *,
    issue_date: str | None = None,
    first_coupon: str | None = None,
    par_call: str | None = None,
    call_price: Decimal = Decimal(1000),
) -> NoteTerms:
    maturity_date = _date(maturity, "--maturity")
    if maturity_date is None:  # pragma: no cover - typer makes it required
        raise InputError.single("required", "maturity is required", field="--maturity")
    return NoteTerms(
        coupon_rate=_percent(coupon, "--coupon"),
        maturity=maturity_date,
        frequency=frequency,
        day_count=parse_day_count(day_count, field="--day-count"),
        issue_date=_date(issue_date, "--issue-date"),
        first_coupon_date=_date(first_coupon, "--first-coupon"),
        par_call_date=_date(par_call, "--par-call"),
        call_price=call_price,
    )


def _convention(terms: NoteTerms, requested: str | None) -> PricingConvention:
    if requested:
        try:
            return PricingConvention(requested.upper())
        except ValueError:
            known = ", ".join(c.value for c in PricingConvention)
            raise InputError.single(
                "convention-known",
                f"unknown convention {requested!r}; known: {known}",
                field="--convention",
            ) from None
    if (terms.frequency, terms.day_count) == (2, DayCount.THIRTY_360_US):
        return PricingConvention.US_SEMI_30_360
    if (terms.frequency, terms.day_count) == (1, DayCount.ACT_ACT_ICMA):
        return PricingConvention.EUR_ANNUAL_ACT_ACT_ICMA
    return PricingConvention.NOTE_TERMS


def _emit(title: str, row: Row, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        write_out(json.dumps(row, indent=2))
    elif output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        write_out(buffer.getvalue())
    else:
        table = Table(title=title, show_header=True)
        table.add_column("field")
        table.add_column("value", justify="right")
        for key, value in row.items():
            table.add_row(key, value)
        stdout_console().print(table)


def _reference_yield(
    reference_yield: Decimal | None,
    treasury_bid: str | None,
    treasury_coupon: Decimal | None,
    treasury_maturity: str | None,
    settlement: date,
    places: int,
) -> tuple[Decimal, Row]:
    if (reference_yield is None) == (treasury_bid is None):
        raise InputError.single(
            "reference-yield-once",
            "give either --reference-yield or --treasury-bid (with its coupon and maturity)",
            field="--reference-yield",
        )
    if reference_yield is not None:
        return _percent(reference_yield, "--reference-yield"), {}
    t_maturity = _date(treasury_maturity, "--treasury-maturity")
    if treasury_coupon is None or t_maturity is None or treasury_bid is None:
        raise InputError.single(
            "treasury-terms-given",
            "--treasury-bid needs --treasury-coupon and --treasury-maturity",
            field="--treasury-bid",
        )
    bid = parse_treasury_price(treasury_bid, field="--treasury-bid")
    exact = treasury_yield_from_bid(
        _percent(treasury_coupon, "--treasury-coupon"), t_maturity, settlement, bid
    )
    # Reference yields are published in percent to `places` decimals, rounded half-up.
    rounded = DECIMAL_CONTEXT.divide(round_half_up(exact * HUNDRED, places), HUNDRED)
    return rounded, {"treasury_bid": _plain(bid), "treasury_yield_unrounded": _as_percent(exact)}


@app.command("fixed-spread")
@numbers_checked
def fixed_spread(
    coupon: Decimal = COUPON,
    maturity: str = MATURITY,
    settlement: str = SETTLEMENT,
    spread_bps: Decimal = typer.Option(..., "--spread-bps", help="fixed spread in basis points"),
    reference_yield: Decimal | None = typer.Option(
        None, "--reference-yield", help="reference yield in percent, e.g. 4.996"
    ),
    treasury_bid: str | None = typer.Option(
        None, "--treasury-bid", help="reference Treasury bid price instead: 99-16+ or 99.515625"
    ),
    treasury_coupon: Decimal | None = typer.Option(None, "--treasury-coupon", help="percent"),
    treasury_maturity: str | None = typer.Option(None, "--treasury-maturity"),
    treasury_settlement: str | None = typer.Option(
        None,
        "--treasury-settlement",
        help="settlement of the Treasury quote (default --settlement)",
    ),
    yield_places: int = typer.Option(
        3, "--reference-yield-places", help="percent decimals of a yield derived from a bid"
    ),
    par_call: str | None = PAR_CALL,
    call_price: Decimal = typer.Option(Decimal(1000), "--call-price", help="per 1,000"),
    price_to: PriceTo = typer.Option(PriceTo.WORST, "--price-to", help="worst, maturity, call"),
    frequency: int = FREQUENCY,
    day_count: str = DAY_COUNT,
    issue_date: str | None = ISSUE,
    first_coupon: str | None = FIRST,
    convention: str | None = typer.Option(
        None, "--convention", help="US_SEMI_30_360, EUR_ANNUAL_ACT_ACT_ICMA or NOTE_TERMS"
    ),
    early_tender_payment: Decimal = typer.Option(
        Decimal(0), "--early-tender-payment", help="per 1,000; TOC = TC - this"
    ),
    output: OutputFormat = FORMAT,
) -> None:
    """Total and tender offer consideration per 1,000 from a reference yield plus a spread."""
    terms = _terms(
        coupon,
        maturity,
        frequency,
        day_count,
        issue_date=issue_date,
        first_coupon=first_coupon,
        par_call=par_call,
        call_price=call_price,
    )
    settle = parse_date(settlement, field="--settlement")
    quote_settle = _date(treasury_settlement, "--treasury-settlement") or settle
    ref, extra = _reference_yield(
        reference_yield,
        treasury_bid,
        treasury_coupon,
        treasury_maturity,
        quote_settle,
        yield_places,
    )
    chosen = _convention(terms, convention)
    result = price_fixed_spread(
        terms, settle, ref, spread_bps, chosen, early_tender_payment, price_to=price_to
    )
    row: Row = {
        "total_consideration": str(result.total_consideration),
        "tender_offer_consideration": str(result.tender_offer_consideration),
        "early_tender_payment": str(round_half_up_to_cent(result.early_tender_payment)),
        "accrued_interest": str(result.accrued_interest),
        "yield": _as_percent(result.yield_rate),
        "reference_yield": _as_percent(ref),
        "spread_bps": _plain(spread_bps),
        **extra,
        "binding": result.binding,
        "binding_end_date": result.binding_end_date.isoformat(),
        "price_unrounded": str(result.price_unrounded),
        "price_to_maturity": str(result.to_maturity.clean_price_per_1000),
        "price_to_call": "" if result.to_call is None else str(result.to_call.clean_price_per_1000),
        "accrued_interest_unrounded": str(result.accrued_interest_unrounded),
        "coupons_left": str(
            (
                result.to_call
                if result.binding != "maturity" and result.to_call
                else result.to_maturity
            ).coupons_left
        ),
        "settlement": settle.isoformat(),
        "convention": chosen.value,
    }
    _emit("Fixed-spread price per 1,000 principal", row, output)


@app.command("yield")
@numbers_checked
def yield_command(
    coupon: Decimal = COUPON,
    maturity: str = MATURITY,
    settlement: str = SETTLEMENT,
    price: Decimal = typer.Option(..., "--price", help="clean price per 1,000"),
    to_date: str | None = typer.Option(None, "--to", help="redemption date (default maturity)"),
    redemption: Decimal = typer.Option(Decimal(1000), "--redemption", help="per 1,000"),
    reference_yield: Decimal | None = typer.Option(
        None, "--reference-yield", help="percent; also print the implied spread"
    ),
    frequency: int = FREQUENCY,
    day_count: str = DAY_COUNT,
    issue_date: str | None = ISSUE,
    first_coupon: str | None = FIRST,
    output: OutputFormat = FORMAT,
) -> None:
    """Yield (percent, compounded at the coupon frequency) from a clean price per 1,000."""
    terms = _terms(
        coupon, maturity, frequency, day_count, issue_date=issue_date, first_coupon=first_coupon
    )
    settle = parse_date(settlement, field="--settlement")
    end = _date(to_date, "--to")
    found = yield_from_price(terms, settle, price, end=end, redemption_per_1000=redemption)
    row: Row = {
        "yield": _as_percent(found),
        "price": _plain(price),
        "end_date": (end or terms.maturity).isoformat(),
        "settlement": settle.isoformat(),
    }
    if reference_yield is not None:
        spread = (found - _percent(reference_yield, "--reference-yield")) / Decimal("0.0001")
        row["spread_bps"] = _plain(spread.quantize(Decimal("0.000001")))
    _emit("Yield from price", row, output)


@app.command("accrued")
@numbers_checked
def accrued_command(
    coupon: Decimal = COUPON,
    maturity: str = MATURITY,
    settlement: str = SETTLEMENT,
    frequency: int = FREQUENCY,
    day_count: str = DAY_COUNT,
    issue_date: str | None = ISSUE,
    first_coupon: str | None = FIRST,
    principal: Decimal | None = typer.Option(
        None, "--principal", help="also the accrued interest on this principal, to the cent"
    ),
    output: OutputFormat = FORMAT,
) -> None:
    """Accrued interest per 1,000 (and per principal) to, but excluding, the settlement date."""
    terms = _terms(
        coupon, maturity, frequency, day_count, issue_date=issue_date, first_coupon=first_coupon
    )
    settle = parse_date(settlement, field="--settlement")
    per_1000 = accrued_interest_per_1000(terms, settle)
    last = last_coupon_on_or_before(terms, settle)
    row: Row = {
        "accrued_interest": str(round_half_up_to_cent(per_1000)),
        "accrued_interest_unrounded": str(per_1000),
        "last_coupon_date": last.isoformat(),
        "next_coupon_date": next_coupon_after(terms, settle).isoformat(),
        "days": str(max(day_count_days(terms.day_count, last, settle), 0)),
        "day_count": terms.day_count.value,
        "settlement": settle.isoformat(),
    }
    if principal is not None:
        row["principal"] = _plain(principal)
        row["accrued_interest_on_principal"] = str(
            round_half_up_to_cent(accrued_interest(terms, principal, settle))
        )
    _emit("Accrued interest per 1,000 principal", row, output)


@app.command("treasury-yield")
@numbers_checked
def treasury_yield_command(
    coupon: Decimal = typer.Option(..., "--coupon", help="Treasury coupon in percent"),
    maturity: str = MATURITY,
    settlement: str = SETTLEMENT,
    bid: str = typer.Option(..., "--bid", help="bid price per 100: 99-16, 99-16+, 99.515625"),
    output: OutputFormat = FORMAT,
) -> None:
    """Yield of a Treasury note or bond from its bid price (Treasury's formula)."""
    settle = parse_date(settlement, field="--settlement")
    maturity_date = parse_date(maturity, field="--maturity")
    price = parse_treasury_price(bid, field="--bid")
    found = treasury_yield_from_bid(_percent(coupon, "--coupon"), maturity_date, settle, price)
    row: Row = {
        "yield": _as_percent(found.quantize(Decimal("1e-12"))),
        "yield_3dp": _plain(round_half_up(found * HUNDRED, 3)),
        "price": _plain(price),
        "settlement": settle.isoformat(),
    }
    _emit("Treasury yield from bid", row, output)


ROGERS = [
    ("4.350", "2049-05-01", "2048-11-01", "4.996", "80"),
    ("3.700", "2049-11-15", "2049-05-15", "4.996", "70"),
    ("2.900", "2026-11-15", "2026-08-15", "4.006", "45"),
    ("3.800", "2032-03-15", "2031-12-15", "4.420", "70"),
]
LEVEL3 = [
    ("9 1/8% Senior Notes", "9.125", "2008-05-01", "1998-05-01", None),
    ("11% Senior Notes", "11", "2008-03-15", "2000-03-15", None),
    (
        "10 1/2% Senior Discount Notes, cash interest from 2003-12-01",
        "10.5",
        "2008-12-01",
        "2003-12-01",
        None,
    ),
    ("10 3/4% Senior Euro Notes (terms assumed)", "10.75", "2008-03-15", "2000-03-15", None),
]


def demo_steps() -> list[DemoStep]:
    steps = [
        DemoStep(
            f"Rogers 2025: {cpn}% notes due {mat[:4]}, {ref}% + {bps} bp (published TC)",
            [
                "price",
                "fixed-spread",
                "--coupon",
                cpn,
                "--maturity",
                mat,
                "--settlement",
                "2025-07-23",
                "--reference-yield",
                ref,
                "--spread-bps",
                bps,
                "--par-call",
                call,
                "--format",
                "json",
            ],
        )
        for cpn, mat, call, ref, bps in ROGERS
    ]
    for title, cpn, mat, issue, _ in LEVEL3:
        steps.append(
            DemoStep(
                f"Level 3 2004: accrued interest at 2004-12-02, {title}; 30/360 assumed",
                [
                    "price",
                    "accrued",
                    "--coupon",
                    cpn,
                    "--maturity",
                    mat,
                    "--issue-date",
                    issue,
                    "--settlement",
                    "2004-12-02",
                    "--format",
                    "csv",
                ],
            )
        )
    return steps
