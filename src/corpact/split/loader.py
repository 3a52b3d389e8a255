"""Read a split file (YAML or TOML) and its authority into validated `SplitTerms`.

Every problem found is reported at once with the file, line and field and the rule broken;
nothing is computed from a file that has any problem.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from corpact.errors import InputError, Problem
from corpact.inputfiles import load_yaml, read_text
from corpact.money import minor_units
from corpact.split.arith import FractionalPolicy, terminating_decimal
from corpact.split.model import (
    AuthorityIn,
    AuthorizedRounding,
    AuthorizedRule,
    AverageRounding,
    AwardIn,
    AwardKind,
    InlineAuthorityIn,
    ParRule,
    PriceIn,
    PriceSource,
    ShareClassIn,
    SplitFileIn,
)
from corpact.split.ratio import RatioRange, SplitRatio
from corpact.split.sourcemap import SourceMap, dotted
from corpact.split.terms import (
    AwardTerms,
    BoardResolution,
    CashPrice,
    ClassTerms,
    FractionalTerms,
    SaleTerms,
    SplitAuthority,
    SplitTerms,
    authority_breaches,
)
from corpact.timeutil import parse_instant, zone

SPLIT_KINDS = {"reverse_split", "forward_split", "split"}


class _Collector:
    """Problems gathered while resolving one split file."""

    def __init__(self, where: SourceMap) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def add(self, rule: str, message: str, *path: str | int) -> None:
        self.problems.append(self.where.problem(rule, message, path))

    def ratio(self, text: str, *path: str | int) -> SplitRatio | None:
        try:
            return SplitRatio.parse(text)
        except InputError as err:
            for p in err.problems:
                self.add(p.rule, p.message, *path)
            return None


def read_document(path: Path) -> tuple[Any, SourceMap]:
    source = str(path)
    text = read_text(path, source)
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text), SourceMap(source, None)
        return load_yaml(text), SourceMap(source, yaml.compose(text))
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(
            "file-syntax", f"not valid YAML/TOML: {err}", source=source, line=line
        ) from None


def load_split(path: Path | str) -> SplitTerms:
    """Load, validate and resolve a split file; raises `InputError` listing every problem."""
    file = Path(path)
    data, where = read_document(file)
    try:
        raw = SplitFileIn.model_validate(data)
    except ValidationError as err:
        raise InputError(
            where.problem("split-file-schema", e["msg"], tuple(e["loc"])) for e in err.errors()
        ) from None
    return resolve_split(raw, where, base_dir=file.parent)


def resolve_split(raw: SplitFileIn, where: SourceMap, *, base_dir: Path) -> SplitTerms:
    """The semantic checks and resolution of a schema-valid split file."""
    found = _Collector(where)
    authority = _authority(raw.authority, found, base_dir)
    resolution = _resolution(raw, found)
    classes = tuple(_class_terms(i, c, raw, found) for i, c in enumerate(raw.classes))
    _check_unique_classes(raw, found)
    fractional = _fractional(raw, found, resolution)
    awards = tuple(_award(i, a, raw, found) for i, a in enumerate(raw.awards))
    if authority is not None and resolution is not None:
        for breach in authority_breaches(authority, resolution):
            found.add(breach.rule, breach.message, *breach.path)
    if found.problems:
        raise InputError(found.problems)
    if authority is None or resolution is None or fractional is None:  # pragma: no cover
        raise InputError.single("split-file", "incomplete split file", source=where.source)
    return SplitTerms(
        split_id=raw.split.id,
        issuer=raw.split.issuer,
        jurisdiction=raw.split.jurisdiction,
        synthetic=raw.split.synthetic,
        note=raw.split.note,
        authority=authority,
        resolution=resolution,
        classes=tuple(c for c in classes if c is not None),
        fractional=fractional,
        awards=tuple(a for a in awards if a is not None),
        source=where.source,
    )


def _authority(raw: AuthorityIn, found: _Collector, base_dir: Path) -> SplitAuthority | None:
    if (raw.meeting is None) == (raw.inline is None):
        found.add(
            "authority-form",
            "give exactly one of authority.meeting (a meeting result "
            "and proposal id) or authority.inline",
            "authority",
        )
        return None
    if raw.inline is not None:
        return _inline_authority(raw.inline, found)
    meeting = raw.meeting
    if meeting is None:  # pragma: no cover - excluded above
        return None
    path = base_dir / meeting.meeting_result
    try:
        return meeting_authority(path, meeting.proposal)
    except InputError as err:
        found.problems.extend(err.problems)
        return None


def _inline_authority(raw: InlineAuthorityIn, found: _Collector) -> SplitAuthority | None:
    ratios, ratio_range = _ratio_set_or_range(
        raw.ratios,
        None if raw.range is None else (raw.range.from_, raw.range.to),
        found,
        ("authority", "inline"),
    )
    if raw.expires_on is not None and raw.expires_at_meeting is not None:
        found.add(
            "authority-expiry",
            "give expires_on or expires_at_meeting, not both",
            "authority",
            "inline",
            "expires_on",
        )
    if ratios is None and ratio_range is None:
        return None
    return SplitAuthority(
        id=raw.id,
        granted_by=raw.basis,
        approved_on=raw.approved_on,
        passed=raw.passed,
        ratios=ratios,
        ratio_range=ratio_range,
        expires_on=raw.expires_on,
        expires_at_meeting=raw.expires_at_meeting,
        expiry_meeting_date=raw.expiry_meeting_date,
        delegate=raw.delegate,
    )


def _ratio_set_or_range(
    ratios: list[str] | None,
    bounds: tuple[str, str] | None,
    found: _Collector,
    at: tuple[str | int, ...],
) -> tuple[frozenset[SplitRatio] | None, RatioRange | None]:
    if (ratios is None) == (bounds is None):
        found.add("authority-ratios", "give exactly one of `ratios` (a set) or `range`", *at)
        return None, None
    if ratios is not None:
        parsed = [found.ratio(text, *at, "ratios", i) for i, text in enumerate(ratios)]
        if any(r is None for r in parsed):
            return None, None
        return frozenset(r for r in parsed if r is not None), None
    if bounds is None:  # pragma: no cover - excluded above
        return None, None
    first = found.ratio(bounds[0], *at, "range", "from")
    second = found.ratio(bounds[1], *at, "range", "to")
    if first is None or second is None:
        return None, None
    if first.direction != second.direction:
        found.add("authority-range", "a range cannot mix forward and reverse ratios", *at, "range")
        return None, None
    return None, RatioRange.between(first, second)


def meeting_authority(path: Path, proposal_id: str) -> SplitAuthority:
    """The split authority granted by one proposal of a tabulated meeting result (JSON)."""
    source = str(path)
    try:
        data = json.loads(read_text(path, source))
    except json.JSONDecodeError as err:
        raise InputError.single(
            "meeting-result-unreadable", f"cannot read the meeting result: {err}", source=source
        ) from None
    problems: list[Problem] = []

    def bad(rule: str, message: str, field: str) -> InputError:
        problems.append(Problem(rule, message, source=source, field=field))
        return InputError(problems)

    meeting = data.get("meeting") if isinstance(data, dict) else None
    proposals = data.get("proposals") if isinstance(data, dict) else None
    if not isinstance(meeting, dict) or not isinstance(proposals, list):
        raise bad(
            "meeting-result-shape", "expected an object with 'meeting' and 'proposals'", "meeting"
        )
    index = next(
        (i for i, p in enumerate(proposals) if isinstance(p, dict) and p.get("id") == proposal_id),
        None,
    )
    if index is None:
        known = [p.get("id") for p in proposals if isinstance(p, dict)]
        raise bad(
            "authority-proposal-unknown",
            f"no proposal {proposal_id!r}; the meeting has {known}",
            "proposals",
        )
    return _authority_from_proposal(data, index, source)


def _authority_from_proposal(data: dict[str, Any], index: int, source: str) -> SplitAuthority:
    proposal = data["proposals"][index]
    at = f"proposals[{index}]"
    collector = _Collector(SourceMap(source, None))
    meeting_day = _iso_day(data["meeting"].get("date"), collector, "meeting.date")
    if proposal.get("kind") not in SPLIT_KINDS:
        collector.add(
            "authority-proposal-kind",
            f"proposal kind {proposal.get('kind')!r} grants no split authority",
            f"{at}.kind",
        )
    passed = proposal.get("passed")
    if not isinstance(passed, bool):
        collector.add("meeting-result-shape", "'passed' must be true or false", f"{at}.passed")
    grant = proposal.get("split_authority")
    if not isinstance(grant, dict):
        collector.add("meeting-result-shape", "missing 'split_authority'", f"{at}.split_authority")
        raise InputError(collector.problems)
    raw_range = grant.get("range")
    bounds = (
        (str(raw_range.get("from")), str(raw_range.get("to")))
        if isinstance(raw_range, dict)
        else None
    )
    ratios_raw = grant.get("ratios")
    ratios, ratio_range = _ratio_set_or_range(
        [str(r) for r in ratios_raw] if isinstance(ratios_raw, list) else None,
        bounds,
        collector,
        (f"{at}.split_authority",),
    )
    expires = grant.get("expires_on")
    expires_on = (
        None
        if expires is None
        else _iso_day(expires, collector, f"{at}.split_authority.expires_on")
    )
    if collector.problems or meeting_day is None:
        raise InputError(collector.problems)
    meeting_id = str(data["meeting"].get("id", "meeting"))
    return SplitAuthority(
        id=f"{meeting_id}/{proposal['id']}",
        granted_by=f"stockholders at meeting {meeting_id}",
        approved_on=meeting_day,
        passed=bool(passed),
        ratios=ratios,
        ratio_range=ratio_range,
        expires_on=expires_on,
        expires_at_meeting=None,
        expiry_meeting_date=None,
        delegate=str(grant.get("delegate") or "board"),
        meeting_id=meeting_id,
        proposal_id=str(proposal["id"]),
    )


def _iso_day(value: Any, found: _Collector, field: str) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        found.add("date-format", f"{value!r} is not an ISO date (YYYY-MM-DD)", field)
        return None


def _resolution(raw: SplitFileIn, found: _Collector) -> BoardResolution | None:
    res = raw.resolution
    ratio = found.ratio(res.ratio, "resolution", "ratio")
    try:
        tz = zone(res.timezone)
        effective_at = parse_instant(res.effective_at, tz)
    except InputError as err:
        for p in err.problems:
            found.add(p.rule, p.message, "resolution", "effective_at")
        return None
    if res.abandoned_on is not None and not res.abandoned:
        found.add(
            "abandonment",
            "abandoned_on is set but abandoned is false",
            "resolution",
            "abandoned_on",
        )
    if ratio is None:
        return None
    return BoardResolution(
        ratio=ratio,
        decided_on=res.decided_on,
        decided_by=res.decided_by,
        effective_at=effective_at.astimezone(tz),
        abandoned=res.abandoned,
        abandoned_on=res.abandoned_on,
        certificate_filed_on=res.certificate_filed_on,
        first_adjusted_trading_day=res.first_adjusted_trading_day,
        expiry_meeting_not_held_attested=res.expiry_meeting_not_held_attested,
    )


def _check_unique_classes(raw: SplitFileIn, found: _Collector) -> None:
    seen: set[str] = set()
    for i, share_class in enumerate(raw.classes):
        if share_class.id in seen:
            found.add(
                "class-duplicate", f"class {share_class.id!r} is listed twice", "classes", i, "id"
            )
        seen.add(share_class.id)


def _class_terms(
    index: int, raw: ShareClassIn, split: SplitFileIn, found: _Collector
) -> ClassTerms | None:
    try:
        ratio = SplitRatio.parse(split.resolution.ratio)
    except InputError:
        return None  # reported once by _resolution
    par_after = _par_after(index, raw, ratio, found)
    authorized_after = _authorized_after(index, raw, ratio, found)
    if par_after is None or authorized_after is None:
        return None
    return ClassTerms(
        id=raw.id,
        par_value_before=raw.par_value_before,
        par_rule=raw.par_rule,
        par_value_after=par_after,
        authorized_before=raw.authorized_before,
        authorized_rule=raw.authorized_rule,
        authorized_after=authorized_after,
        reserved_after=raw.reserved_after,
        old_cusip=raw.old_cusip,
        new_cusip=raw.new_cusip,
    )


def _par_after(
    index: int, raw: ShareClassIn, ratio: SplitRatio, found: _Collector
) -> Decimal | None:
    at = ("classes", index)
    if raw.par_rule is ParRule.explicit:
        if raw.par_value_after is None:
            found.add(
                "par-explicit-needs-value",
                "par_rule explicit needs par_value_after",
                *at,
                "par_value_after",
            )
        return raw.par_value_after
    if raw.par_value_after is not None:
        found.add(
            "par-value-after-unused",
            f"par_value_after is only read with par_rule explicit (rule is {raw.par_rule.value})",
            *at,
            "par_value_after",
        )
    if raw.par_rule is ParRule.unchanged:
        return raw.par_value_before
    # 1-for-r multiplies par by r; 2-for-5 by 5/2. Only a terminating decimal is a valid par.
    scaled = Fraction(raw.par_value_before) / ratio.factor
    par_after = terminating_decimal(scaled)
    if par_after is None:
        found.add(
            "par-scaled-not-exact",
            f"par {raw.par_value_before} scaled by {ratio} is "
            f"{scaled}, not a terminating decimal; use par_rule explicit",
            *at,
            "par_rule",
        )
    return par_after


def _authorized_after(
    index: int, raw: ShareClassIn, ratio: SplitRatio, found: _Collector
) -> int | None:
    at = ("classes", index)
    if raw.authorized_rule is AuthorizedRule.explicit:
        if raw.authorized_after is None:
            found.add(
                "authorized-explicit-needs-value",
                "authorized_rule explicit needs authorized_after",
                *at,
                "authorized_after",
            )
        return raw.authorized_after
    if raw.authorized_after is not None:
        found.add(
            "authorized-after-unused",
            "authorized_after is only read with authorized_rule explicit",
            *at,
            "authorized_after",
        )
    if raw.authorized_rule is AuthorizedRule.unchanged:
        return raw.authorized_before
    whole, rem = divmod(raw.authorized_before * ratio.new_shares, ratio.old_shares)
    if rem and raw.authorized_rounding is AuthorizedRounding.exact:
        found.add(
            "authorized-proportional-not-exact",
            f"{raw.authorized_before} x {ratio} is "
            f"not a whole number; set authorized_rounding: floor or use explicit",
            *at,
            "authorized_rounding",
        )
        return None
    return whole


def _fractional(
    raw: SplitFileIn, found: _Collector, resolution: BoardResolution | None
) -> FractionalTerms | None:
    frac = raw.fractional
    class_ids = {c.id for c in raw.classes}
    price = None
    if frac.policy is FractionalPolicy.cash_in_lieu:
        if frac.price is None:
            found.add(
                "cash-policy-needs-price",
                "policy cash_in_lieu needs a price (source, basis and close or closes)",
                "fractional",
                "price",
            )
        elif resolution is not None:
            price = _cash_price(
                frac.price, minor_units(frac.currency), resolution, class_ids, found
            )
    if frac.policy is FractionalPolicy.aggregate_and_sell:
        _check_sale(raw, class_ids, found)
    if (
        frac.policy is FractionalPolicy.round_down_no_cash
        and raw.split.jurisdiction.strip().lower() == "delaware"
        and not frac.allow_round_down_without_cash
    ):
        found.add(
            "round-down-needs-override",
            "cancelling fractions without payment may not "
            "satisfy DGCL section 155 for a Delaware issuer; set "
            "allow_round_down_without_cash: true to override",
            "fractional",
            "policy",
        )
    return FractionalTerms(
        policy=frac.policy,
        currency=frac.currency,
        minor_units=minor_units(frac.currency),
        price=price,
        cash_rounding=frac.cash_rounding,
        sale_agent_holder_id=frac.sale_agent_holder_id,
        sale_agent_name=frac.sale_agent_name,
        sales=tuple(
            SaleTerms(s.class_id, s.price_per_new_share, s.expenses, s.sold_on) for s in frac.sales
        ),
    )


def _check_sale(raw: SplitFileIn, class_ids: set[str], found: _Collector) -> None:
    frac = raw.fractional
    if not frac.sale_agent_holder_id:
        found.add(
            "sale-needs-agent",
            "aggregate_and_sell needs sale_agent_holder_id (the "
            "account that receives the pooled shares)",
            "fractional",
            "sale_agent_holder_id",
        )
    sold = [s.class_id for s in frac.sales]
    for i, class_id in enumerate(sold):
        if class_id not in class_ids or sold.count(class_id) > 1:
            found.add(
                "sale-class",
                f"sale for class {class_id!r}: unknown or repeated class",
                "fractional",
                "sales",
                i,
                "class_id",
            )
    for class_id in sorted(class_ids - set(sold)):
        found.add(
            "sale-missing",
            f"aggregate_and_sell needs a sale for class {class_id!r}",
            "fractional",
            "sales",
        )


def _cash_price(
    raw: PriceIn,
    places: int,
    resolution: BoardResolution,
    class_ids: set[str],
    found: _Collector,
) -> CashPrice | None:
    at = ("fractional", "price")
    effective_on = resolution.effective_at.date()
    if raw.class_id is not None and raw.class_id not in class_ids:
        found.add(
            "price-class",
            f"price class {raw.class_id!r} is not a class of this split",
            *at,
            "class_id",
        )
    if raw.source is PriceSource.n_day_average:
        return _average_price(raw, places, effective_on, found)
    if raw.close is None or raw.close_on is None:
        found.add("price-needs-close", f"source {raw.source.value} needs close and close_on", *at)
        return None
    if raw.source is PriceSource.prior_close and raw.close_on >= effective_on:
        found.add(
            "price-date",
            f"a prior close must be before the effective date {effective_on}; got {raw.close_on}",
            *at,
            "close_on",
        )
    if raw.source is PriceSource.effective_date_close and raw.close_on != effective_on:
        found.add(
            "price-date",
            f"an effective-date close must be on {effective_on}; got {raw.close_on}",
            *at,
            "close_on",
        )
    return CashPrice(raw.close, raw.basis, raw.source, raw.class_id, raw.close_on, raw.close_on, 1)


def _average_price(
    raw: PriceIn, places: int, effective_on: date, found: _Collector
) -> CashPrice | None:
    at = ("fractional", "price")
    closes = raw.closes or []
    if raw.days is None or len(closes) != raw.days:
        found.add(
            "price-average-days",
            f"n_day_average needs `days` and exactly that many "
            f"closes (got {len(closes)} for days={raw.days})",
            *at,
            "closes",
        )
        return None
    days = [c.on for c in closes]
    if len(set(days)) != len(days) or max(days) > effective_on:
        found.add(
            "price-average-days",
            f"closes must be on distinct days on or before the effective date {effective_on}",
            *at,
            "closes",
        )
        return None
    total = sum((c.close for c in closes), Decimal(0))
    exact = Fraction(total) / len(closes)
    amount = _round_average(exact, raw.average_rounding, places)
    if amount is None:
        found.add(
            "price-average-not-exact",
            f"the average {exact} is not a terminating decimal; choose a rounding",
            *at,
            "average_rounding",
        )
        return None
    return CashPrice(amount, raw.basis, raw.source, raw.class_id, min(days), max(days), len(closes))


def _round_average(exact: Fraction, rounding: AverageRounding, places: int) -> Decimal | None:
    if rounding is AverageRounding.exact:
        return terminating_decimal(exact)
    scaled = exact * 10**places
    minor = scaled.numerator // scaled.denominator
    if rounding is AverageRounding.half_up_to_minor_unit and 2 * (scaled - minor) >= 1:
        minor += 1
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def _award(index: int, raw: AwardIn, split: SplitFileIn, found: _Collector) -> AwardTerms | None:
    at = ("awards", index)
    if raw.class_id not in {c.id for c in split.classes}:
        found.add(
            "award-class", f"class {raw.class_id!r} is not a class of this split", *at, "class_id"
        )
    needs_price = raw.kind in (AwardKind.option, AwardKind.warrant)
    if raw.kind is AwardKind.right:
        if raw.fraction_per_right is None:
            found.add("award-right-fraction", "a right needs fraction_per_right", *at)
    elif raw.shares is None:
        found.add("award-shares", f"a {raw.kind.value} needs shares", *at, "shares")
    if needs_price and raw.exercise_price is None:
        found.add("award-price", f"a {raw.kind.value} needs exercise_price", *at, "exercise_price")
    if not needs_price and raw.exercise_price is not None:
        found.add("award-price", f"a {raw.kind.value} has no exercise price", *at, "exercise_price")
    return AwardTerms(
        raw.id,
        raw.kind,
        raw.class_id,
        raw.shares,
        raw.exercise_price,
        raw.fraction_per_right,
        raw.share_rounding,
        raw.price_rounding,
    )


__all__ = ["dotted", "load_split", "meeting_authority", "read_document", "resolve_split"]
