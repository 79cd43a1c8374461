"""Engine test fixtures: payers on a running simulator, stopped (their watchers with them) at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import RunningSim
from tests.engine.helpers import Payer


@pytest.fixture
def payer_factory() -> Iterator[Callable[[RunningSim], Payer]]:
    payers: list[Payer] = []

    def make(sim: RunningSim) -> Payer:
        payers.append(Payer(sim))
        return payers[-1]

    yield make
    for payer in payers:
        payer.stop()


@pytest.fixture
def payer(regtest: RunningSim) -> Iterator[Payer]:
    payer = Payer(regtest)
    yield payer
    payer.stop()
