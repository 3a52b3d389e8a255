"""Business-day calendars behind one small interface; no other module touches a calendar.

Known ids: ``US-SIFMA`` (alias ``USGS``; the US bond market as in `holidays`'
``financial_holidays("USGS")``) and ``TARGET`` (alias ``TAR``; the euro area's TARGET2
closing days). Saturdays and Sundays are never business days.
"""

from corpact.calendars.business_days import (
    CALENDAR_IDS,
    add_business_days,
    calendar_time_zone,
    canonical_calendar_id,
    holiday_name,
    is_business_day,
    local_business_date,
    settlement_date,
)

__all__ = [
    "CALENDAR_IDS",
    "add_business_days",
    "calendar_time_zone",
    "canonical_calendar_id",
    "holiday_name",
    "is_business_day",
    "local_business_date",
    "settlement_date",
]
