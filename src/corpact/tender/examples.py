"""The Level 3 2004 example instructions: how the shipped CSV files are made.

`level3_instruction_rows()` is deterministic; a test checks that the shipped files equal it.
Early tenders add up to the published 2004-11-15 table exactly; late tenders are chosen so that
the replay reaches the published final figures (about $1.127 billion tendered, $249,457,000 of
the 9 1/8% notes bought); withdrawals show both withdrawal rules at work.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from corpact.tender.synthetic import Tranche, synthetic_rows

NEW_YORK = ZoneInfo("America/New_York")
LAUNCH = datetime(2004, 10, 29, 9, 0, tzinfo=NEW_YORK)
EARLY_TENDER = datetime(2004, 11, 12, 17, 0, tzinfo=NEW_YORK)
AMENDMENT = datetime(2004, 11, 17, 8, 0, tzinfo=NEW_YORK)
EXPIRATION = datetime(2004, 12, 1, 23, 0, tzinfo=NEW_YORK)

# Published: tendered as of the early tender date (release of 2004-11-15).
EARLY_TOTALS = {
    "l3-9.125-2008": (Decimal(243955000), "USD", 48),
    "l3-11-2008": (Decimal(229226000), "USD", 37),
    "l3-10.5-discount-2008": (Decimal(262515000), "USD", 41),
    "l3-10.75-euro-2008": (Decimal(284461000), "EUR", 52),
}
# Synthetic: later tenders. Level 1's figure is published (249,457,000 - 243,955,000).
LATE_TOTALS = {
    "l3-9.125-2008": (Decimal(5502000), "USD", 6),
    "l3-11-2008": (Decimal(6000000), "USD", 5),
    "l3-10.5-discount-2008": (Decimal(5000000), "USD", 4),
    "l3-10.75-euro-2008": (Decimal(4500000), "EUR", 5),
}


def level3_instruction_rows(include_late: bool) -> list[dict[str, str]]:
    tranches = [
        Tranche(sid, total, count, LAUNCH, EARLY_TENDER, currency=ccy, id_prefix="E")
        for sid, (total, ccy, count) in EARLY_TOTALS.items()
    ]
    # One early tender made and withdrawn before the deadline: allowed, and it must not count.
    tranches.append(
        Tranche("l3-11-2008", Decimal(2500000), 1, LAUNCH, LAUNCH.replace(day=30), id_prefix="X")
    )
    if include_late:
        tranches += [
            Tranche(sid, total, count, EARLY_TENDER, EXPIRATION, currency=ccy, id_prefix="L")
            for sid, (total, ccy, count) in LATE_TOTALS.items()
        ]
        # A late tender withdrawn before expiration: allowed for late tenders.
        tranches.append(
            Tranche(
                "l3-10.75-euro-2008",
                Decimal(1000000),
                1,
                AMENDMENT,
                AMENDMENT.replace(day=18),
                currency="EUR",
                id_prefix="Y",
            )
        )
    rows = synthetic_rows(tranches, seed=20041029)
    withdrawals = []
    for row in rows:
        if row["instruction_id"].startswith(("X", "Y")):
            received = datetime.fromisoformat(row["received_at"])
            when = received.replace(day=received.day + 2)
            withdrawals.append(
                {
                    "instruction_id": "W" + row["instruction_id"][1:],
                    "received_at": when.isoformat(),
                    "action": "withdraw",
                    "series": "",
                    "principal": "",
                    "currency": "",
                    "participant": row["participant"],
                    "account": "",
                    "reference": "withdrawal of " + row["reference"],
                    "guaranteed_delivery": "",
                    "withdraws": row["instruction_id"],
                }
            )
    return sorted(rows + withdrawals, key=lambda r: (r["received_at"], r["instruction_id"]))
