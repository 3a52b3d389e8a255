"""Pools: a group of series under a cap of its own, below the aggregate cap."""

from __future__ import annotations

from decimal import Decimal

from corpact.tender import allocate
from tests.tender.builders import EXPIRATION, build_terms, offer_document, series_doc, tender


def test_a_pool_cap_binds_its_series_and_leaves_the_others_alone() -> None:
    document = offer_document(
        [series_doc("a", 1, 10**9), series_doc("b", 2, 10**9), series_doc("c", 3, 10**9)],
        aggregate_cap={"amount": "10000000", "currency": "USD"},
        pools=[
            {"id": "short", "cap": {"amount": "3000000", "currency": "USD"}, "series": ["a", "b"]}
        ],
    )
    terms, _ = build_terms(document)
    tenders = [
        tender("ta", "a", 2_000_000),
        tender("tb", "b", 2_000_000),
        tender("tc", "c", 4_000_000),
    ]
    allocation = allocate(terms, tenders, EXPIRATION)
    assert allocation.accepted_principal("a") == 2_000_000
    assert allocation.accepted_principal("b") == 1_000_000  # prorated to the pool's room
    group_b = next(g for g in allocation.groups if g.series_id == "b")
    assert group_b.binding_cap == "pool:short"
    # A pool running out stops only the pool: series c, outside it, is still bought.
    assert allocation.accepted_principal("c") == 4_000_000
    used = {c.key: c.used for c in allocation.caps}
    assert used["pool:short"] == 3_000_000 and used["aggregate"] == 7_000_000
    assert sum(t.principal_accepted for t in allocation.tenders) == Decimal(7_000_000)
