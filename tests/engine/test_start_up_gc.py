"""The console's garbage collection (``cli.start_up``, ``cli.start_up_objects_frozen``): none while it imports and
builds what it starts with; while the app runs, what existed before is left out of collections, and what the app
makes is collected as usual; everything as it was afterwards."""

from __future__ import annotations

import gc

from lnconsole import cli


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_no_collection_during_start_up_and_as_it_was_after() -> None:
    assert gc.isenabled()
    with cli.start_up():
        assert not gc.isenabled()
    assert gc.isenabled()

    gc.disable()
    try:
        with cli.start_up():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_while_the_app_runs_older_objects_are_frozen_and_new_garbage_is_collected() -> None:
    gc.collect()
    assert gc.get_freeze_count() == 0
    older = Cycle()
    with cli.start_up_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the imports' objects, and ``older``
        assert any(obj is older for obj in gc.get_objects()) is False  # frozen objects are not tracked for collection
        Cycle()  # garbage made while the app runs
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0
    assert any(obj is older for obj in gc.get_objects())
    del older
