"""Sending payments on the simulated regtest network: preflight, launch, split, retry, final failures.

Everything goes through ``PylnNode`` over the simulator's real socket. The regtest network: A (us) reaches C by
A-B-C (B has 350k sat towards C, htlc max 396k), A-D-C (300k, htlc max 297k) and A-B-E-C (200k, htlc max 198k).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from lnconsole.node import NodeError, SendPayment
from lnconsole.payment import (
    AlreadyLaunched,
    AlreadyPaid,
    Fresh,
    PartAttached,
    PartComplete,
    PartFailed,
    PartSent,
    PaymentComplete,
    PaymentFailed,
    Pending,
    RetryPolicy,
    RetryRefused,
    preflight,
)
from lnconsole.plan import (
    PaymentPlan,
    PaymentTarget,
    PlanError,
    PlannedPart,
    equal_split,
    liquidity_plan,
    single,
    single_routed,
)
from tests.conftest import RunningSim
from tests.engine.helpers import SAT, CountingNode, Payer, sha256_hex

# ---------------------------------------------------------------------------------------------------------------
# One part


def test_single_part_pays_with_verified_preimage(payer: Payer) -> None:
    target = payer.invoice(50_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    session, events = payer.session(target)

    result = session.launch(plan)
    done = session.wait(10)

    assert result.outcome == "sent" and result.groupid == 1
    assert isinstance(done, PaymentComplete)
    assert sha256_hex(done.preimage) == target.payment_hash
    assert done.amount_msat == target.amount_msat
    assert done.fee_msat == plan.fee_msat and done.amount_sent_msat == plan.amount_sent_msat
    kinds = [type(event).__name__ for event in events.events]
    assert kinds == ["PartSent", "PartComplete", "PaymentComplete"]
    complete = events.of(PartComplete)[0]
    assert complete.preimage_verified and complete.partid == 1 and complete.route == plan.parts[0].route
    (record,) = payer.records(target.payment_hash)
    assert (record.groupid, record.partid, record.status) == (1, 1, "complete")
    assert record.bolt11 == target.bolt11


def test_already_paid_invoice_sends_nothing(payer: Payer) -> None:
    target = payer.invoice(20_000 * SAT)
    first, _ = payer.session(target)
    first.launch(single(target, payer.route(target.amount_msat)))
    paid = first.wait(10)
    assert isinstance(paid, PaymentComplete)
    sent_before = payer.node.count("sendpay")

    found = preflight(payer.node, target)
    assert isinstance(found, AlreadyPaid)
    assert found.preimage == paid.preimage and found.amount_msat == target.amount_msat

    second, events = payer.session(target)
    result = second.launch(single(target, payer.route(target.amount_msat)))
    assert result.outcome == "already_paid"
    assert payer.node.count("sendpay") == sent_before
    (complete,) = events.of(PaymentComplete)
    assert complete.already_paid and complete.preimage == paid.preimage
    assert len(payer.records(target.payment_hash)) == 1


def test_double_launch_is_refused(payer: Payer) -> None:
    target = payer.invoice(10_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    session, _ = payer.session(target)
    session.launch(plan)
    with pytest.raises(AlreadyLaunched, match="already launched"):
        session.launch(plan)
    assert isinstance(session.wait(10), PaymentComplete)
    with pytest.raises(RetryRefused, match="already complete"):
        session.retry_part(1)
    assert payer.node.count("sendpay") == 1
    assert len(payer.records(target.payment_hash)) == 1


def test_failed_payment_gets_a_new_group(payer: Payer) -> None:
    """A first attempt that failed leaves the hash free: preflight says Fresh, with the next groupid."""
    target = payer.invoice(30_000 * SAT)
    squeezed = payer.squeeze("103x2x0", "B", 1_000 * SAT)
    route = payer.route(target.amount_msat, exclude=("103x4x0", "103x5x0"))
    assert [hop.short_channel_id for hop in route.hops] == ["103x1x0", "103x2x0"]
    session, events = payer.session(target)
    session.launch(single(target, route))
    failed = session.wait(10)
    assert isinstance(failed, PaymentFailed) and not failed.final
    assert failed.retryable_parts == ((1, 1),)
    assert squeezed in session.excluded_channels

    found = preflight(payer.node, target)
    assert isinstance(found, Fresh) and found.next_groupid == 2

    retried = session.retry_part(1)
    assert (retried.groupid, retried.partid) == (2, 1)
    assert squeezed not in {hop.short_channel_id_dir for hop in retried.route.hops}  # type: ignore[union-attr]
    assert isinstance(session.wait(10), PaymentComplete)
    assert events.of(PartSent)[-1].retry_of == (1, 1)


# ---------------------------------------------------------------------------------------------------------------
# Split payments


def test_three_part_payment_only_succeeds_split(payer: Payer) -> None:
    target = payer.invoice(540_000 * SAT)
    with pytest.raises(PlanError, match="No route"):
        single_routed(target, payer.finder)
    plan = equal_split(target, 3, payer.finder)
    session, events = payer.session(target)

    session.launch(plan)
    done = session.wait(10)

    assert isinstance(done, PaymentComplete)
    assert sha256_hex(done.preimage) == target.payment_hash
    assert done.parts == 3 and done.amount_msat == target.amount_msat and done.fee_msat == plan.fee_msat
    records = payer.records(target.payment_hash)
    assert sorted(record.partid for record in records) == [1, 2, 3]
    assert {record.groupid for record in records} == {1}
    assert all(record.status == "complete" for record in records)
    assert sum(record.amount_msat or 0 for record in records) == target.amount_msat
    assert {event.partid for event in events.of(PartComplete)} == {1, 2, 3}


def test_liquidity_plan_pays_what_no_equal_split_can(payer: Payer) -> None:
    target = payer.invoice(700_000 * SAT)
    plan = liquidity_plan(target, payer.finder, 3)
    assert plan.part_count == 3
    session, _ = payer.session(target)
    session.launch(plan)
    done = session.wait(10)
    assert isinstance(done, PaymentComplete) and done.parts == 3
    assert {record.groupid for record in payer.records(target.payment_hash)} == {1}


def _three_parts_one_via_e(payer: Payer, target: PaymentTarget) -> PaymentPlan:
    """Three 100k-sat parts: over B-C, over D-C, and over B-E-C."""
    third = target.amount_msat // 3
    routes = [
        payer.route(third, exclude=("103x4x0", "103x5x0")),
        payer.route(third, exclude=("103x2x0", "103x5x0")),
        payer.route(third, exclude=("103x2x0", "103x4x0")),
    ]
    assert [len(route.hops) for route in routes] == [2, 2, 3]
    return PaymentPlan(target, tuple(PlannedPart(i, third, route) for i, route in enumerate(routes, start=1)))


def test_part_failing_mid_route_is_retried_around_the_channel(payer: Payer) -> None:
    squeezed = payer.squeeze("103x6x0", "E", 10 * SAT)
    target = payer.invoice(300_000 * SAT)
    session, events = payer.session(target, finder=None)  # the default: RouteFinder, made when first needed
    session.launch(_three_parts_one_via_e(payer, target))

    failed = events.wait_for(PartFailed)
    assert failed.partid == 3 and failed.retryable and not failed.final and failed.code == 204
    assert failed.failure.erring_index == 2 and failed.failure.erring_channel == "103x6x0"
    assert failed.failure.failcodename == "WIRE_TEMPORARY_CHANNEL_FAILURE"
    assert squeezed in failed.explanation.exclusions
    assert payer.node.count("sendpay") == 3  # no retry unless asked

    retried = session.retry_part(3)
    done = session.wait(10)

    assert (retried.groupid, retried.partid, retried.retry_of) == (1, 4, (1, 3))
    assert squeezed not in {hop.short_channel_id_dir for hop in retried.route.hops}  # type: ignore[union-attr]
    assert isinstance(done, PaymentComplete) and done.parts == 3
    records = payer.records(target.payment_hash)
    assert {(r.partid, r.status) for r in records} == {(1, "complete"), (2, "complete"), (3, "failed"), (4, "complete")}
    assert {record.groupid for record in records} == {1}
    with pytest.raises(RetryRefused, match="already retried"):
        session.retry_part(3)


def test_a_proposed_retry_is_found_and_checked_but_not_sent(payer: Payer) -> None:
    """The console confirms a retry before sending it: propose_retry gives the route, retry_part sends that route."""
    squeezed = payer.squeeze("103x6x0", "E", 10 * SAT)
    target = payer.invoice(300_000 * SAT)
    session, events = payer.session(target)
    session.launch(_three_parts_one_via_e(payer, target))
    events.wait_for(PartFailed)  # parts 1 and 2 are held by the payee until the whole amount arrives

    proposed = session.propose_retry(3, groupid=1)

    assert payer.node.count("sendpay") == 3  # proposing sends nothing
    assert proposed.amount_msat == 100_000 * SAT and proposed.destination == target.destination
    assert squeezed not in {hop.short_channel_id_dir for hop in proposed.hops}
    with pytest.raises(RetryRefused, match="still in flight"):
        session.propose_retry(1, groupid=1)
    with pytest.raises(RetryRefused, match="does not end at the payee"):
        session.propose_retry(3, groupid=1, route=payer.route(100_000 * SAT, to="E"))

    retried = session.retry_part(3, groupid=1, route=proposed)
    assert isinstance(session.wait(10), PaymentComplete)
    assert retried.route == proposed and payer.node.count("sendpay") == 4
    with pytest.raises(RetryRefused, match="already retried"):
        session.propose_retry(3, groupid=1)


def test_retry_policy_retries_by_itself(payer: Payer) -> None:
    payer.squeeze("103x6x0", "E", 10 * SAT)
    target = payer.invoice(300_000 * SAT)
    session, events = payer.session(target, retry_policy=RetryPolicy(max_attempts=2, max_fee_msat=10 * SAT))
    session.launch(_three_parts_one_via_e(payer, target))
    done = session.wait(10)
    assert isinstance(done, PaymentComplete)
    assert [event.retry_of for event in events.of(PartSent)] == [None, None, None, (1, 3)]
    assert payer.node.count("sendpay") == 4
    kinds = [type(event).__name__ for event in events.events]
    assert "PaymentFailed" not in kinds and kinds[-1] == "PaymentComplete"


def test_mpp_timeout_on_a_partial_payment_then_retry_all(
    start_sim: Callable[..., RunningSim], payer_factory: Callable[[RunningSim], Payer]
) -> None:
    payer = payer_factory(start_sim("regtest", mpp_timeout_s=1))
    payer.squeeze("103x6x0", "E", 10 * SAT)
    target = payer.invoice(300_000 * SAT)
    session, events = payer.session(target)
    session.launch(_three_parts_one_via_e(payer, target))

    failed = session.wait(10)

    assert isinstance(failed, PaymentFailed) and not failed.final
    assert set(failed.retryable_parts) == {(1, 1), (1, 2), (1, 3)}
    timeouts = [event for event in events.of(PartFailed) if event.partid in (1, 2)]
    assert {event.failure.failcodename for event in timeouts} == {"WIRE_MPP_TIMEOUT"}
    assert all(event.retryable for event in timeouts)
    assert payer.node.count("sendpay") == 3

    retried = session.retry_all()
    done = session.wait(10)

    assert {(part.groupid, part.partid) for part in retried} == {(2, 1), (2, 2), (2, 3)}
    assert isinstance(done, PaymentComplete) and done.groupid == 2
    assert sha256_hex(done.preimage) == target.payment_hash


# ---------------------------------------------------------------------------------------------------------------
# Final failures stop


@pytest.mark.parametrize("wrong", ["payment_secret", "payment_hash"])
def test_final_failure_stops_with_no_retry(payer: Payer, wrong: str) -> None:
    target = payer.invoice(10_000 * SAT)
    other = hashlib.sha256(b"not the invoice's").hexdigest()
    bad = PaymentTarget(
        payment_hash=other if wrong == "payment_hash" else target.payment_hash,
        payment_secret=other if wrong == "payment_secret" else target.payment_secret,
        destination=target.destination,
        amount_msat=target.amount_msat,
        min_final_cltv_expiry=target.min_final_cltv_expiry,
    )
    session, events = payer.session(bad, retry_policy=RetryPolicy(max_attempts=3))
    session.launch(single(bad, payer.route(bad.amount_msat)))
    outcome = session.wait(10)

    assert isinstance(outcome, PaymentFailed) and outcome.final and outcome.retryable_parts == ()
    (failed,) = events.of(PartFailed)
    assert failed.code == 203 and failed.final and not failed.retryable
    assert failed.failure.failcodename == "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
    with pytest.raises(RetryRefused, match="failed at the destination"):
        session.retry_part(1)
    assert payer.node.count("sendpay") == 1


# ---------------------------------------------------------------------------------------------------------------
# Nothing sent twice


def test_pending_parts_are_picked_up_by_a_second_engine(payer: Payer) -> None:
    target = payer.invoice(40_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    payer.sim.node.config.hop_delay_ms = 250
    first, _ = payer.session(target)
    first.launch(plan)
    first.stop()  # the console closes; the payment goes on on the node

    second_node = CountingNode(payer.sim.socket_path)
    second, events = payer.session(target, node=second_node)
    found = preflight(second_node, target)
    assert isinstance(found, Pending) and found.groupid == 1
    assert [(part.partid, part.status) for part in found.parts] == [(1, "pending")]

    result = second.launch(plan)  # the same plan, confirmed again: attached, not sent
    done = second.wait(10)

    assert result.outcome == "attached"
    assert isinstance(done, PaymentComplete) and sha256_hex(done.preimage) == target.payment_hash
    assert second_node.count("sendpay") == 0
    assert isinstance(events.events[0], PartAttached)
    assert len(payer.records(target.payment_hash)) == 1


@pytest.mark.parametrize("lost", ["after", "before"])
def test_lost_sendpay_answer_is_checked_not_resent(payer: Payer, lost: str) -> None:
    """The socket drops during sendpay: the node is asked what it has; the part exists on the node once."""
    target = payer.invoice(25_000 * SAT)
    session, events = payer.session(target)
    payer.node.lose_sendpay = lost
    session.launch(single(target, payer.route(target.amount_msat)))
    done = session.wait(10)

    assert isinstance(done, PaymentComplete)
    assert payer.node.count("sendpay") == 1  # "after": the lost one; "before": the one sent after asking
    (record,) = payer.records(target.payment_hash)
    assert (record.groupid, record.partid, record.status) == (1, 1, "complete")
    kinds = [type(event).__name__ for event in events.events]
    assert kinds[0] == "NodeUnreachableEvent" and "NodeReachable" in kinds


def test_a_retry_never_carries_more_than_the_total(payer: Payer) -> None:
    """A part whose amount is already carried by the parts in flight (a second console retried it) is refused."""
    payer.squeeze("103x6x0", "E", 10 * SAT)
    target = payer.invoice(300_000 * SAT)
    first, events = payer.session(target)
    first.launch(_three_parts_one_via_e(payer, target))
    events.wait_for(PartFailed)
    first.stop()

    second, second_events = payer.session(target)
    second.attach()
    second_events.wait_for(PartFailed, lambda event: event.partid == 3)
    payer.sim.node.config.hop_delay_ms = 400  # the retried part takes ~1.6 s: still in flight below
    second.retry_part(3)  # the second console retries the failed part
    third, third_events = payer.session(target)
    third.attach()
    third_events.wait_for(PartFailed, lambda event: event.partid == 3)
    with pytest.raises(RetryRefused, match="more than asked"):
        third.retry_part(3)
    assert isinstance(second.wait(10), PaymentComplete)
    assert len(payer.records(target.payment_hash)) == 4


def test_first_hop_failure_raised_by_sendpay_itself(payer: Payer) -> None:
    """sendpay answers 204 at once when our peer is not connected: the part fails, a retry goes around it."""
    target = payer.invoice(50_000 * SAT)
    via_d = payer.route(target.amount_msat, exclude=("103x1x0",))
    assert via_d.hops[0].short_channel_id == "103x3x0"
    payer.sim.rpc.call("dev-sim-node", {"id": "D", "online": False})
    session, events = payer.session(target)
    session.launch(single(target, via_d))

    failed = events.wait_for(PartFailed)
    assert failed.code == 204 and failed.retryable and failed.failure.erring_index == 0
    assert failed.failure.erring_channel == "103x3x0" and "sendpay refused the first hop" in failed.message
    assert payer.records(target.payment_hash) == []  # lightningd stored nothing
    retried = session.retry_part(1)
    assert retried.route.hops[0].short_channel_id == "103x1x0"  # type: ignore[union-attr]
    assert (retried.groupid, retried.partid) == (2, 1)  # nothing in flight: a new group
    assert isinstance(session.wait(10), PaymentComplete)


def test_a_route_naming_the_wrong_first_peer_is_blamed_not_our_channel(payer: Payer) -> None:
    """A route whose first hop names E over our channel to D: sendpay refuses it at once (204, erring_index 0, as
    lightningd does in sendpay_misc #15). The message says the route is wrong; our channel is not excluded."""
    target = payer.invoice(50_000 * SAT)
    via_d = payer.route(target.amount_msat, exclude=("103x1x0",))
    wrong = replace(via_d, hops=(replace(via_d.hops[0], node_id=payer.sim.alias("E"), alias=""), *via_d.hops[1:]))
    session, events = payer.session(target)
    session.launch(single(target, wrong))

    failed = events.wait_for(PartFailed)
    assert failed.message == (
        "sendpay refused the first hop: the route's first hop names E but channel 103x3x0 leads to D."
    )
    assert failed.retryable and failed.explanation.exclusions == () and session.excluded_channels == ()
    retried = session.retry_part(1)
    assert isinstance(session.wait(10), PaymentComplete)
    assert retried.route is not None and retried.route.hops[0].node_id != payer.sim.alias("E")


def test_two_consoles_racing_never_send_a_part_twice(payer: Payer) -> None:
    """Another console sends its own plan between our preflight and our sendpay: ours is refused (201) and we
    watch theirs instead."""
    target = payer.invoice(100_000 * SAT)
    theirs = equal_split(target, 2, payer.finder)
    other, _ = payer.session(target, node=CountingNode(payer.sim.socket_path))

    class Racing(CountingNode):
        def sendpay(self, *args: Any, **kwargs: Any) -> SendPayment:
            if not self.count("sendpay"):
                other.launch(theirs)  # the other console wins the race
            return super().sendpay(*args, **kwargs)

    ours_node = Racing(payer.sim.socket_path)
    session, events = payer.session(target, node=ours_node)
    result = session.launch(single(target, payer.route(target.amount_msat)))
    done = session.wait(10)

    assert result.outcome == "attached"
    refused = events.of(PartFailed)[0]
    assert refused.code == 201 and refused.status == "not_sent" and "Already pending with amount" in refused.message
    assert isinstance(done, PaymentComplete) and done.parts == 2
    assert ours_node.count("sendpay") == 1
    assert sorted(record.partid for record in payer.records(target.payment_hash)) == [1, 2]


@pytest.mark.parametrize(
    ("code", "message", "words"),
    [
        (-32602, "msatoshi was previously 100000000msat, now 100000005msat", "The node refused the part's parameters"),
        (
            200,
            "Payment with groupid=1 still in progress, cannot retry before that completes.",
            "Another attempt at this payment is in flight",
        ),
    ],
)
def test_sendpay_refusals_stop_the_launch_with_a_clear_message(
    payer: Payer, code: int, message: str, words: str
) -> None:
    """Answers from the transcripts: the refused part and the ones after it are not sent; nothing is retried."""

    class Refusing(CountingNode):
        def sendpay(self, *args: Any, **kwargs: Any) -> SendPayment:
            self._counted("sendpay")
            raise NodeError("sendpay", code, message)

    target = payer.invoice(100_000 * SAT)
    node = Refusing(payer.sim.socket_path)
    session, events = payer.session(target, node=node, retry_policy=RetryPolicy(max_attempts=3))
    session.launch(equal_split(target, 2, payer.finder))
    outcome = session.wait(10)

    first, second = events.of(PartFailed)
    assert (first.partid, first.code, first.status) == (1, code, "not_sent")
    assert first.message.startswith(words) and message in first.message
    assert second.partid == 2 and second.message.startswith("Not sent: part 1 was refused")
    assert isinstance(outcome, PaymentFailed) and outcome.final
    assert node.count("sendpay") == 1
    assert payer.records(target.payment_hash) == []
