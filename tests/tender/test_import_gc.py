"""A bulk import pauses the cyclic garbage collector and always leaves it as it found it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpact.cli.common import examples_root
from corpact.errors import InputError
from corpact.store import JournalStore
from corpact.tender.desk import OfferDesk, _cyclic_gc_paused

FOLDER = examples_root() / "level3-2004"
EARLY = FOLDER / "instructions-early.csv"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[OfferDesk]:
    with JournalStore.open(f"sqlite:///{tmp_path / 'journal.db'}") as store:
        desk = OfferDesk(store)
        desk.launch(FOLDER / "offer.toml")
        yield desk


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_paused_during_an_import_and_back_on_after(desk: OfferDesk) -> None:
    during: list[bool] = []
    desk.import_csv(
        "level3-2004", EARLY, chunk=50, progress=lambda _n: during.append(gc.isenabled())
    )
    assert during and not any(during)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_back_on_after_an_import_that_fails(desk: OfferDesk, tmp_path: Path) -> None:
    lines = EARLY.read_text().splitlines()
    lines[5] = lines[5].replace(",tender,l3-", ",tender,no-such-")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError):
        desk.import_csv("level3-2004", bad)
    assert gc.isenabled()

    def fail(_count: int) -> None:
        raise RuntimeError("the caller's progress bar broke")

    with pytest.raises(RuntimeError):
        desk.import_csv("level3-2004", EARLY, chunk=50, progress=fail)
    assert gc.isenabled()


def test_left_off_when_the_caller_had_it_off(desk: OfferDesk) -> None:
    gc.disable()
    try:
        desk.import_csv("level3-2004", EARLY)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_a_nested_import_does_not_switch_it_back_on_early(desk: OfferDesk) -> None:
    after_inner: list[bool] = []

    def import_again(_count: int) -> None:
        if not after_inner:
            desk.import_csv("level3-2004", EARLY)  # everything already recorded or skipped
            after_inner.append(gc.isenabled())

    desk.import_csv("level3-2004", EARLY, chunk=50, progress=import_again)
    assert after_inner == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_imports_in_threads_restore_it_when_the_last_one_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with _cyclic_gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with pytest.raises(RuntimeError), _cyclic_gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
            raise RuntimeError("the second import fails")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first ended": False}
    assert gc.isenabled()
