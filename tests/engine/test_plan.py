"""Payment plans: amounts that add up exactly, routes that deliver them, planners over both route finders."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lnconsole.amounts import fee_ppm
from lnconsole.invoice import load_invoice
from lnconsole.plan import (
    MAX_PARTS,
    PaymentPlan,
    PaymentTarget,
    PlanError,
    PlannedPart,
    check_amounts,
    custom_split,
    equal_split,
    liquidity_plan,
    single,
    split_amounts,
)
from lnconsole.routing import Route, RouteFinder
from tests.conftest import RunningSim
from tests.engine.helpers import SAT, Payer

HASH = hashlib.sha256(b"plan").hexdigest()
SECRET = hashlib.sha256(b"secret").hexdigest()
NODE = "02" + "ab" * 32


class NoFinder:
    """A finder that must not be asked (plans refused before any routing)."""

    def find(self, *args: Any, **kwargs: Any) -> list[Route]:
        raise AssertionError("the finder was asked")


@pytest.fixture
def payer(regtest: RunningSim) -> Iterator[Payer]:
    payer = Payer(regtest)
    yield payer
    payer.stop()


def _lasts(plan: PaymentPlan) -> set[str]:
    return {part.route.hops[-1].short_channel_id for part in plan.parts}


# ---------------------------------------------------------------------------------------------------------------
# Amounts


@given(st.integers(min_value=1, max_value=21_000_000 * 10**11), st.integers(min_value=1, max_value=MAX_PARTS))
def test_split_amounts_add_up_exactly(total: int, parts: int) -> None:
    if total < parts:
        with pytest.raises(PlanError, match="cannot be split"):
            split_amounts(total, parts)
        return
    amounts = split_amounts(total, parts)
    assert sum(amounts) == total and len(amounts) == parts
    assert max(amounts) - min(amounts) <= 1
    assert list(amounts) == sorted(amounts, reverse=True)  # the remainder goes to the first parts


def test_split_amounts_remainder_and_refusals() -> None:
    assert split_amounts(100_000_001, 3) == (33_333_334, 33_333_334, 33_333_333)
    assert split_amounts(7, 1) == (7,)
    with pytest.raises(PlanError, match="at least 1"):
        split_amounts(1000, 0)
    with pytest.raises(PlanError, match="too many"):
        split_amounts(10**9, MAX_PARTS + 1)


def test_custom_amounts_must_add_up() -> None:
    assert check_amounts(300, [100, 200]) == (100, 200)
    with pytest.raises(PlanError) as refused:
        check_amounts(200_000, [100_000, 50_000])
    assert refused.value.args[0] == "The parts add up to 150sat, 50sat less than the 200sat to pay."
    with pytest.raises(PlanError, match="1sat more than"):
        check_amounts(200_000, [100_000, 101_000])
    with pytest.raises(PlanError, match="Part 2: the amount must be a positive number of msat, not -5"):
        check_amounts(10, [15, -5])
    target = PaymentTarget(HASH, SECRET, NODE, 300_000)
    with pytest.raises(PlanError, match="add up to"):
        custom_split(target, [100_000, 100_000], NoFinder())


# ---------------------------------------------------------------------------------------------------------------
# Targets


def test_target_refuses_what_is_not_a_payment() -> None:
    assert PaymentTarget(HASH.upper(), None, NODE.upper(), 1).payment_hash == HASH  # normalised to lower case
    for fields, words in [
        ({"payment_hash": "abc"}, "payment hash must be 64 hex digits"),
        ({"payment_secret": "zz"}, "payment secret must be 64 hex digits"),
        ({"destination": "03abc"}, "destination must be a node id"),
        ({"amount_msat": 0}, "positive number of msat"),
        ({"amount_msat": 1.5}, "positive number of msat"),
        ({"min_final_cltv_expiry": -1}, "block count"),
    ]:
        values: dict[str, Any] = {
            "payment_hash": HASH,
            "payment_secret": SECRET,
            "destination": NODE,
            "amount_msat": 1000,
        } | fields
        with pytest.raises(PlanError, match=words):
            PaymentTarget(**values)


def test_target_from_a_checked_invoice(payer: Payer) -> None:
    created = payer.sim.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": 12_345_678, "description": "x"})
    target = PaymentTarget.from_invoice(load_invoice(payer.node.inner, created["bolt11"]), label="coffee")
    assert target == PaymentTarget(
        payment_hash=created["payment_hash"],
        payment_secret=created["payment_secret"],
        destination=payer.sim.alias("C"),
        amount_msat=12_345_678,
        min_final_cltv_expiry=10,
        bolt11=created["bolt11"],
        label="coffee",
        supports_mpp=True,
    )
    open_amount = payer.sim.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": "any", "description": "x"})
    with pytest.raises(PlanError, match="cannot be paid: the invoice has no amount"):
        PaymentTarget.from_invoice(load_invoice(payer.node.inner, open_amount["bolt11"]))
    given_amount = load_invoice(payer.node.inner, open_amount["bolt11"], "5sat")
    assert PaymentTarget.from_invoice(given_amount).amount_msat == 5000


# ---------------------------------------------------------------------------------------------------------------
# Plans


def test_plan_totals(payer: Payer) -> None:
    target = payer.invoice(540_000 * SAT)
    plan = equal_split(target, 3, payer.finder)
    assert plan.part_count == 3 and [part.partid for part in plan.parts] == [1, 2, 3]
    assert plan.amount_msat == target.amount_msat == sum(part.amount_msat for part in plan.parts)
    assert plan.fee_msat == sum(part.route.fee_msat for part in plan.parts) > 0
    assert plan.amount_sent_msat == plan.amount_msat + plan.fee_msat
    assert plan.fee_ppm == fee_ppm(plan.fee_msat, plan.amount_msat)
    assert plan.total_delay == max(part.route.total_delay for part in plan.parts) == 22  # A-B-E-C: 10 + 6 + 6
    assert _lasts(plan) == {"103x2x0", "103x4x0", "103x6x0"}  # three different ways into C


def test_plan_checks_every_route(payer: Payer) -> None:
    target = payer.invoice(100_000 * SAT)
    half = target.amount_msat // 2
    to_c = payer.route(half)
    other = payer.route(half, exclude=("103x2x0",))
    with pytest.raises(PlanError, match=r"Part 1: the route ends at .*not at the payee"):
        PaymentPlan(target, (PlannedPart(1, target.amount_msat, payer.route(target.amount_msat, to="B")),))
    with pytest.raises(PlanError, match=r"Part 1: the route delivers 50000sat, not the part's 49999\.999sat"):
        PaymentPlan(target, (PlannedPart(1, half - 1, to_c), PlannedPart(2, half + 1, other)))
    with pytest.raises(PlanError, match="The parts add up to 50000sat, 50000sat less"):
        PaymentPlan(target, (PlannedPart(1, half, to_c),))
    with pytest.raises(PlanError, match="its own partid"):
        PaymentPlan(target, (PlannedPart(1, half, to_c), PlannedPart(1, half, other)))
    with pytest.raises(PlanError, match="Partid 0 is only for a single-part"):
        PaymentPlan(target, (PlannedPart(0, half, to_c), PlannedPart(1, half, other)))
    no_secret = dataclasses.replace(target, payment_secret=None)
    with pytest.raises(PlanError, match="no payment secret"):
        PaymentPlan(no_secret, (PlannedPart(1, half, to_c), PlannedPart(2, half, other)))
    no_mpp = dataclasses.replace(target, supports_mpp=False)
    with pytest.raises(PlanError, match="does not take multi-part payments"):
        equal_split(no_mpp, 2, NoFinder())
    whole = payer.route(target.amount_msat)
    short = Route((*whole.hops[:-1], dataclasses.replace(whole.hops[-1], delay=9)), whole.source)
    with pytest.raises(PlanError, match="final CLTV of 9 blocks; the invoice needs at least 10"):
        single(target, short)
    assert single(no_secret, whole).parts[0].partid == 0  # an old invoice: the non-MPP form
    plan = single(target, whole)
    assert plan.parts[0].partid == 1
    rerouted = plan.with_route(1, payer.route(target.amount_msat, exclude=("103x2x0",)))
    assert _lasts(rerouted) == {"103x4x0"}
    with pytest.raises(PlanError, match="delivers"):
        plan.with_route(1, to_c)


def test_equal_split_is_msat_exact(payer: Payer) -> None:
    target = payer.invoice(540_000 * SAT + 2)
    plan = equal_split(target, 3, payer.finder)
    assert [part.amount_msat for part in plan.parts] == [180_000_001, 180_000_001, 180_000_000]
    assert all(part.route.amount_msat == part.amount_msat for part in plan.parts)


def test_custom_split_routes_each_amount(payer: Payer) -> None:
    target = payer.invoice(700_000 * SAT)
    plan = custom_split(target, [340_000 * SAT, 180_000 * SAT, 180_000 * SAT], payer.finder)
    assert [part.amount_msat for part in plan.parts] == [340_000 * SAT, 180_000 * SAT, 180_000 * SAT]
    assert _lasts(plan) == {"103x2x0", "103x4x0", "103x6x0"}


def test_liquidity_plan_splits_in_one_query(payer: Payer) -> None:
    target = payer.invoice(700_000 * SAT)
    plan = liquidity_plan(target, payer.finder, 3)
    assert 2 <= plan.part_count <= 3 and sum(part.amount_msat for part in plan.parts) == target.amount_msat
    assert [part.partid for part in plan.parts] == list(range(1, plan.part_count + 1))
    small = liquidity_plan(payer.invoice(1_000 * SAT), payer.finder, 3)
    assert small.part_count == 1
    with pytest.raises(PlanError, match="maxparts must be between 1"):
        liquidity_plan(target, payer.finder, 0)


def test_no_route_is_a_clear_refusal(payer: Payer) -> None:
    target = payer.invoice(2_000_000 * SAT)
    with pytest.raises(PlanError, match=r"Part 1 of 2: No route for 1000000sat"):
        equal_split(target, 2, payer.finder)
    with pytest.raises(PlanError, match="Part 1 of 3: No route for 180000sat: Could not find route without excessive"):
        equal_split(payer.invoice(540_000 * SAT), 3, payer.finder, maxfee_msat=1)


def test_planners_work_over_getroute_on_an_old_node(
    start_sim: Callable[..., RunningSim],
) -> None:
    sim = start_sim("regtest", generation="legacy")
    payer = Payer(sim)
    finder = RouteFinder(payer.node.inner, payer.our_id)
    target = payer.invoice(540_000 * SAT)
    plan = equal_split(target, 3, finder)
    assert not finder.uses_getroutes
    assert _lasts(plan) == {"103x2x0", "103x4x0", "103x6x0"}
    assert sum(part.amount_msat for part in plan.parts) == target.amount_msat
