"""A Hypothesis state machine drives the live offer (tenders, withdrawals, amendments, retries,
crashes, as-of queries) against a deliberately simple reference model; they must agree."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from corpact.errors import CorpactError
from corpact.store import CRASH_POINTS, FaultPlan, JournalStore, SimulatedCrash
from corpact.tender.desk import OfferDesk
from corpact.tender.instructions import Tender, Withdrawal
from tests.tender.builders import NEW_YORK

LAUNCH = datetime(2021, 3, 1, 9, 0, tzinfo=NEW_YORK)
EARLY = LAUNCH + timedelta(days=10)
SERIES = ("alpha", "beta")
CAP = 5_000_000


def terms_document() -> dict[str, object]:
    return {
        "offer_id": "sim",
        "issuer": "Simulated Issuer",
        "deadlines": {
            "launch_at": LAUNCH.isoformat(),
            "early_tender_at": EARLY.isoformat(),
            "withdrawal_at": EARLY.isoformat(),
            "expiration_at": (LAUNCH + timedelta(days=20)).isoformat(),
        },
        "settlement": {"final_settlement_date": "2021-04-30"},
        "aggregate_cap": {"amount": str(CAP), "currency": "USD"},
        "series": [
            {"id": sid, "title": sid, "currency": "USD", "outstanding": "100000000",
             "priority_level": level, "tender_offer_consideration": "990.00",
             "early_tender_payment": "10.00"}
            for level, sid in enumerate(SERIES, start=1)
        ],
    }  # fmt: skip


@dataclass
class ModelTender:
    series: str
    principal: int
    at: datetime
    withdrawn_at: datetime | None = None


class Model:
    """The rules written the plain way: no corpact code below this line."""

    def __init__(self) -> None:
        self.tenders: dict[str, ModelTender] = {}
        self.cap_changes: list[tuple[datetime, int]] = [(LAUNCH, CAP)]
        self.expirations: list[tuple[datetime, datetime]] = [(LAUNCH, LAUNCH + timedelta(days=20))]

    def expiration(self, at: datetime) -> datetime:
        return [e for t, e in self.expirations if t <= at][-1]

    def cap(self, at: datetime) -> int:
        return [c for t, c in self.cap_changes if t <= at][-1]

    def tender_ok(self, instruction_id: str, principal: int, at: datetime) -> bool:
        return (
            instruction_id not in self.tenders
            and principal >= 1000 and principal % 1000 == 0
            and at < self.expiration(at)
        )  # fmt: skip

    def withdrawal_ok(self, target: str, at: datetime) -> bool:
        t = self.tenders.get(target)
        if t is None or t.withdrawn_at is not None:
            return False
        deadline = EARLY if t.at < EARLY else self.expiration(at)
        return at < deadline

    def accepted(self, as_of: datetime) -> dict[str, int]:
        room = Fraction(self.cap(as_of))
        result = dict.fromkeys(SERIES, 0)
        for sid in SERIES:
            live = [
                t for t in self.tenders.values()
                if t.series == sid and t.at <= as_of
                and (t.withdrawn_at is None or t.withdrawn_at > as_of)
            ]  # fmt: skip
            demand = sum(t.principal for t in live)
            if demand <= room:
                result[sid], room = demand, room - demand
                continue
            factor = room / demand
            result[sid] = sum(int(t.principal * factor) // 1000 * 1000 for t in live)
            break
        return result


class LiveOffer(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="corpact-sim-"))
        self.url = f"sqlite:///{self.folder / 'sim.db'}"
        self.model = Model()
        self.now = LAUNCH + timedelta(hours=1)
        self.counter = 0
        self.last: Tender | Withdrawal | None = None
        self.store = JournalStore.open(self.url)
        self.desk = OfferDesk(self.store)

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def launch(self) -> None:
        path = self.folder / "terms.yaml"
        path.write_text(yaml.safe_dump(terms_document()))
        self.desk.launch(path)

    def _submit(self, instruction: Tender | Withdrawal, ok: bool) -> None:
        size = self.store.tree_size()
        try:
            self.desk.submit("sim", [instruction])
        except CorpactError:
            assert not ok, f"refused a valid {instruction}"
            assert self.store.tree_size() == size
            return
        assert ok, f"accepted an invalid {instruction}"
        self.last = instruction
        if isinstance(instruction, Tender):
            self.model.tenders[instruction.instruction_id] = ModelTender(
                instruction.series_id, int(instruction.principal), instruction.received_at
            )
        else:
            self.model.tenders[instruction.target_id].withdrawn_at = instruction.received_at

    @rule(minutes=st.integers(0, 5 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(series=st.sampled_from(SERIES), steps=st.integers(1, 900), odd=st.booleans())
    def tender(self, series: str, steps: int, odd: bool) -> None:
        self.counter += 1
        principal = steps * 1000 + (500 if odd else 0)
        instruction = Tender(f"t{self.counter}", self.now, series, Decimal(principal))
        ok = self.model.tender_ok(instruction.instruction_id, principal, self.now)
        self._submit(instruction, ok)

    @precondition(lambda self: bool(self.model.tenders))
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(self.model.tenders)))
        self.counter += 1
        instruction = Withdrawal(f"w{self.counter}", self.now, target)
        self._submit(instruction, self.model.withdrawal_ok(target, self.now))

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_last(self) -> None:
        size = self.store.tree_size()
        assert self.last is not None
        assert self.desk.submit("sim", [self.last])[0].status == "exists"
        assert self.store.tree_size() == size

    @rule(cap_millions=st.integers(1, 40), extend_days=st.integers(0, 5))
    def amend(self, cap_millions: int, extend_days: int) -> None:
        if self.now >= self.model.expiration(self.now):
            return
        self.counter += 1
        expiration = self.model.expiration(self.now) + timedelta(days=extend_days)
        path = self.folder / f"amendment-{self.counter}.yaml"
        document = {"id": f"a{self.counter}", "effective_at": self.now.isoformat(),
                    "aggregate_cap_amount": str(cap_millions * 1_000_000),
                    "expiration_at": expiration.isoformat()}  # fmt: skip
        path.write_text(yaml.safe_dump(document))
        self.desk.amend("sim", path)
        self.model.cap_changes.append((self.now, cap_millions * 1_000_000))
        self.model.expirations.append((self.now, expiration))

    @rule(point=st.sampled_from(CRASH_POINTS[:-1]), series=st.sampled_from(SERIES))
    def crash_and_restart(self, point: str, series: str) -> None:
        self.counter += 1
        instruction = Tender(f"t{self.counter}", self.now, series, Decimal(1000))
        ok = self.model.tender_ok(instruction.instruction_id, 1000, self.now)
        self.store.close()
        plan = FaultPlan(crash_at=point)
        with (
            JournalStore.open(self.url, faults=plan) as crashing,
            contextlib.suppress(SimulatedCrash, CorpactError),
        ):
            OfferDesk(crashing).submit("sim", [instruction])
        # A fresh process: nothing in memory survives; the client retries with the same key.
        self.store = JournalStore.open(self.url)
        self.desk = OfferDesk(self.store)
        self._submit(instruction, ok)

    @rule(back_minutes=st.integers(0, 30 * 24 * 60))
    def query_as_of(self, back_minutes: int) -> None:
        as_of = max(LAUNCH, self.now - timedelta(minutes=back_minutes))
        run = self.desk.results("sim", as_of)
        got = {sid: int(run.allocation.accepted_principal(sid)) for sid in SERIES}
        assert got == self.model.accepted(as_of)

    @invariant()
    def journal_holds_one_leaf_per_valid_event(self) -> None:
        state = self.desk.state("sim")
        assert state.ledger is not None
        assert set(state.ledger.tenders) == set(self.model.tenders)


LiveOffer.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestLiveOffer = LiveOffer.TestCase
