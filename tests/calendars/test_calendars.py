"""Business-day calendars: known closures, T+n settlement, and agreement with QuantLib."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import QuantLib as ql
from hypothesis import given
from hypothesis import strategies as st

from corpact.calendars import (
    add_business_days,
    calendar_time_zone,
    canonical_calendar_id,
    holiday_name,
    is_business_day,
    local_business_date,
    settlement_date,
)
from corpact.errors import InputError

# The bond market stayed shut on 12 September 2001; QuantLib reopens it that day.
QUANTLIB_DIFFERS = {("US-SIFMA", date(2001, 9, 12))}


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        (date(2004, 10, 11), True),  # Columbus Day
        (date(2004, 4, 9), True),  # Good Friday
        (date(2004, 6, 11), True),  # Reagan day of mourning
        (date(2012, 10, 30), True),  # Hurricane Sandy
        (date(2025, 6, 19), True),  # Juneteenth
        (date(2025, 1, 9), False),  # NYSE closed for Carter; the bond market was open
        (date(2025, 7, 23), False),
        (date(2025, 7, 26), True),  # Saturday
    ],
)
def test_us_bond_market_closures(day: date, closed: bool) -> None:
    assert is_business_day(day, "US-SIFMA") is not closed
    assert is_business_day(day, "USGS") is not closed


def test_target_closures() -> None:
    assert not is_business_day(date(2025, 12, 26), "TARGET")
    assert not is_business_day(date(2025, 5, 1), "TAR")
    assert is_business_day(date(2025, 7, 4), "TARGET")
    assert holiday_name(date(2025, 12, 25), "TARGET") is not None
    assert holiday_name(date(2025, 7, 23), "TARGET") is None


@pytest.mark.parametrize(
    ("calendar_id", "oracle"),
    [
        ("US-SIFMA", ql.UnitedStates(ql.UnitedStates.GovernmentBond)),
        ("TARGET", ql.TARGET()),
    ],
)
def test_every_day_2000_to_2030_agrees_with_quantlib(calendar_id: str, oracle: ql.Calendar) -> None:
    day, differences = date(2000, 1, 1), []
    while day <= date(2030, 12, 31):
        ours = is_business_day(day, calendar_id)
        theirs = oracle.isBusinessDay(ql.Date(day.day, day.month, day.year))
        if ours != theirs and (calendar_id, day) not in QUANTLIB_DIFFERS:
            differences.append(day)
        day += timedelta(days=1)
    assert differences == []
    assert not is_business_day(date(2001, 9, 12), "US-SIFMA")


def test_settlement_dates() -> None:
    assert settlement_date(date(2019, 8, 6), 3, "US-SIFMA") == date(2019, 8, 9)  # Kellogg
    assert settlement_date(date(2004, 10, 8), 1, "US-SIFMA") == date(2004, 10, 12)
    assert settlement_date(date(2025, 12, 24), 1, "TARGET") == date(2025, 12, 29)
    assert settlement_date(date(2025, 7, 26), 0, "US-SIFMA") == date(2025, 7, 28)
    with pytest.raises(InputError):
        settlement_date(date(2025, 7, 23), -1, "US-SIFMA")


@given(
    st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    st.integers(0, 30),
    st.sampled_from(["US-SIFMA", "TARGET"]),
)
def test_add_business_days_lands_on_a_business_day_and_steps_back(
    start: date, count: int, calendar_id: str
) -> None:
    later = add_business_days(start, count, calendar_id)
    assert is_business_day(later, calendar_id)
    assert later >= start
    if count > 0 and is_business_day(start, calendar_id):
        assert add_business_days(later, -count, calendar_id) == start
    open_days = sum(
        is_business_day(start + timedelta(days=i), calendar_id)
        for i in range(1, (later - start).days + 1)
    )
    assert open_days == count or (count == 0 and open_days <= 1)


def test_unknown_calendar_is_an_input_error() -> None:
    with pytest.raises(InputError) as raised:
        is_business_day(
            date(2025, 7, 23),
            "LONDON",
        )
    assert raised.value.problems[0].rule == "calendar-known"
    assert canonical_calendar_id(" usgs ") == "US-SIFMA"


def test_local_business_date_in_the_market_zone() -> None:
    late_utc = datetime(2025, 7, 19, 2, 30, tzinfo=ZoneInfo("UTC"))
    assert local_business_date(late_utc, "US-SIFMA") == date(2025, 7, 18)
    assert calendar_time_zone("TARGET") == ZoneInfo("Europe/Berlin")
    with pytest.raises(InputError):
        local_business_date(datetime(2025, 7, 19, 2, 30), "US-SIFMA")
