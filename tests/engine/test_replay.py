"""What a real lightningd said, fed through the node client and the engine (issue 3, "Tests": the replay test).

Every answer in ``../shared/cln/transcripts/`` is served by :class:`tests.engine.replay.ReplayNode` on a unix
socket and read through ``PylnNode`` (pyln-client underneath), then through the engine's failure explanation
and payment session: a first failure report whose payment still says ``pending``, a 204 raised by ``sendpay``
itself, ``decodepay`` answering -32601, a deprecated ``getroute``. The network (README there): A (us) reaches C
by A-B-C, A-D-C and A-B-E-C; every channel charges 1 msat + 10 ppm with CLTV delta 6.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from pyln.client import LightningRpc

from lnconsole.amounts import parse_amount
from lnconsole.failures import FailureExplanation, NextStep, explain
from lnconsole.graph import ChannelPolicies
from lnconsole.invoice import load_invoice
from lnconsole.node import (
    GossipChannel,
    NodeError,
    NodeInfo,
    NodeSummary,
    Page,
    PeerChannel,
    PylnNode,
    RoutingFailure,
    SendpayHop,
    SendPayment,
)
from lnconsole.payment import (
    Fresh,
    PartAttached,
    PartComplete,
    PartFailed,
    PartPending,
    PartSent,
    PaymentComplete,
    PaymentEvent,
    PaymentFailed,
    PaymentSession,
    Pending,
)
from lnconsole.plan import PaymentTarget, single
from lnconsole.routing import Route, RouteFinder, RouteNotFound, route_from_getroute
from tests.engine.replay import (
    TRANSCRIPT_FILES,
    RecordedCall,
    ReplayFactory,
    ReplayNode,
    load_calls,
    node_ids,
    recorded,
)

IDS = node_ids()
A, B, C, D, E = (IDS[name] for name in "ABCDE")
NAMES = {node_id: name for name, node_id in IDS.items()}
MIN_FINAL_CLTV = 10
"""The regtest invoices' min_final_cltv_expiry (transcripts README)."""

CONSOLE_METHODS = (
    "getinfo",
    "listpeerchannels",
    "listchannels",
    "listnodes",
    "decode",
    "getroute",
    "sendpay",
    "waitsendpay",
    "listsendpays",
)

# What the explainer must make of each failure the transcripts hold: its name and the next step.
EXPECTED_FAILURES: dict[str, tuple[str, NextStep]] = {
    "WIRE_TEMPORARY_CHANNEL_FAILURE": ("temporary_channel_failure", NextStep.RETRY_ELSEWHERE),
    "WIRE_FEE_INSUFFICIENT": ("fee_insufficient", NextStep.UPDATE_AND_RETRY),
    "WIRE_INCORRECT_CLTV_EXPIRY": ("incorrect_cltv_expiry", NextStep.UPDATE_AND_RETRY),
    "WIRE_UNKNOWN_NEXT_PEER": ("unknown_next_peer", NextStep.RETRY_ELSEWHERE),
    "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS": ("incorrect_or_unknown_payment_details", NextStep.STOP),
    "WIRE_MPP_TIMEOUT": ("mpp_timeout", NextStep.STOP),
}


@pytest.fixture
def replay(short_socket_dir: Any) -> Iterator[ReplayFactory]:
    """``replay(transcripts, node=, start=, skip=, unknown_methods=)`` -> a started ReplayNode."""
    factory = ReplayFactory(short_socket_dir)
    yield factory
    factory.stop_all()


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def route_of(entries: Sequence[Mapping[str, Any]]) -> Route:
    """A recorded sendpay/getroute route as the engine's Route (aliases = the transcripts' node names)."""
    hops = [
        SendpayHop(hop["id"], hop["channel"], int(hop["direction"]), int(hop["amount_msat"]), int(hop["delay"]))
        for hop in entries
    ]
    return route_from_getroute(hops, A, NAMES)


def sendpay_hops(entries: Sequence[Mapping[str, Any]]) -> list[SendpayHop]:
    return route_of(entries).to_sendpay() if entries else []


def invoke(client: PylnNode, method: str, params: Mapping[str, Any]) -> Any:
    """The recorded request made through the node client's typed method (``call`` for the others)."""
    p = params
    if method == "getinfo":
        return client.getinfo()
    if method == "listpeerchannels":
        return client.listpeerchannels(p.get("id"))
    if method == "listchannels":
        return client.listchannels(p.get("short_channel_id"), p.get("source"), p.get("destination"))
    if method == "listnodes":
        return client.listnodes(p.get("id"))
    if method == "decode":
        return client.decode(p["string"])
    if method == "getroute":
        amount = p["amount_msat"]
        return client.getroute(
            p["id"],
            parse_amount(amount) if isinstance(amount, str) else amount,
            riskfactor=p["riskfactor"],
            cltv=p.get("cltv", 9),
            fromid=p.get("fromid"),
            fuzzpercent=p.get("fuzzpercent"),
            exclude=p.get("exclude", ()),
            maxhops=p.get("maxhops"),
        )
    if method == "sendpay":
        return client.sendpay(
            [SendpayHop(h["id"], h["channel"], h["direction"], h["amount_msat"], h["delay"]) for h in p["route"]],
            p["payment_hash"],
            amount_msat=p.get("amount_msat"),
            label=p.get("label"),
            bolt11=p.get("bolt11"),
            payment_secret=p.get("payment_secret"),
            partid=p.get("partid"),
            groupid=p.get("groupid"),
        )
    if method == "waitsendpay":
        return client.waitsendpay(
            p["payment_hash"], timeout=p.get("timeout"), partid=p.get("partid"), groupid=p.get("groupid")
        )
    if method == "listsendpays":
        if "index" in p:
            return client.listsendpays_page(start=p["start"], limit=p["limit"], status=p.get("status"))
        return client.listsendpays(payment_hash=p.get("payment_hash"), bolt11=p.get("bolt11"), status=p.get("status"))
    return client.call(method, dict(p))


def is_msat(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_payment(payment: SendPayment, obj: Mapping[str, Any]) -> None:
    """A typed part against the JSON lightningd sent for it."""
    assert payment.created_index == obj["created_index"]
    assert payment.payment_hash == obj["payment_hash"]
    assert payment.groupid == obj["groupid"]
    assert payment.partid == obj.get("partid", 0)
    assert payment.status == obj["status"]
    assert payment.amount_msat == obj.get("amount_msat")
    assert payment.amount_sent_msat == obj["amount_sent_msat"] and is_msat(payment.amount_sent_msat)
    assert payment.amount_msat is None or is_msat(payment.amount_msat)
    assert payment.destination == obj.get("destination")
    assert payment.created_at == obj["created_at"]
    assert payment.completed_at == obj.get("completed_at")
    assert payment.updated_index == obj.get("updated_index")
    assert payment.label == obj.get("label")
    assert payment.bolt11 == obj.get("bolt11")
    assert payment.erroronion == obj.get("erroronion")
    assert payment.payment_preimage == obj.get("payment_preimage")
    if payment.payment_preimage is not None:
        assert hashlib.sha256(bytes.fromhex(payment.payment_preimage)).hexdigest() == payment.payment_hash


def check_result(call: RecordedCall, answer: Any) -> None:
    """The typed answer carries what lightningd said (ids, int msat amounts, statuses, partid/groupid...)."""
    result = call.result
    method = call.method
    if method == "getinfo":
        assert answer == NodeInfo(
            id=result["id"],
            alias=result["alias"],
            color=result["color"],
            network=result["network"],
            blockheight=result["blockheight"],
            version=result["version"],
            num_peers=result["num_peers"],
            num_active_channels=result["num_active_channels"],
        )
    elif method == "listpeerchannels":
        assert len(answer) == len(result["channels"])
        for channel, obj in zip(answer, result["channels"], strict=True):
            assert isinstance(channel, PeerChannel)
            local = obj["updates"]["local"]
            assert (channel.peer_id, channel.short_channel_id, channel.direction, channel.state) == (
                obj["peer_id"],
                obj["short_channel_id"],
                obj["direction"],
                obj["state"],
            )
            assert channel.peer_connected is obj["peer_connected"] and channel.private is obj["private"]
            for name in ("spendable_msat", "receivable_msat", "total_msat", "to_us_msat"):
                assert getattr(channel, name) == obj[name] and is_msat(getattr(channel, name)), name
            assert (channel.fee_base_msat, channel.fee_ppm, channel.cltv_delta) == (
                local["fee_base_msat"],
                local["fee_proportional_millionths"],
                local["cltv_expiry_delta"],
            )
            assert (channel.htlc_minimum_msat, channel.htlc_maximum_msat) == (
                local["htlc_minimum_msat"],
                local["htlc_maximum_msat"],
            )
    elif method == "listchannels":
        assert len(answer) == len(result["channels"])
        for channel, obj in zip(answer, result["channels"], strict=True):
            assert answer and isinstance(channel, GossipChannel)
            assert (channel.short_channel_id, channel.direction, channel.source, channel.destination) == (
                obj["short_channel_id"],
                obj["direction"],
                obj["source"],
                obj["destination"],
            )
            assert (channel.active, channel.public) == (obj["active"], obj["public"])
            assert (channel.base_fee_msat, channel.fee_ppm, channel.cltv_delta) == (
                obj["base_fee_millisatoshi"],
                obj["fee_per_millionth"],
                obj["delay"],
            )
            assert (channel.amount_msat, channel.htlc_minimum_msat, channel.htlc_maximum_msat) == (
                obj["amount_msat"],
                obj["htlc_minimum_msat"],
                obj["htlc_maximum_msat"],
            )
            assert channel.fee_for(1_000_000) == obj["base_fee_millisatoshi"] + obj["fee_per_millionth"]
    elif method == "listnodes":
        assert answer == [
            NodeSummary(node["nodeid"], node.get("alias", ""), node.get("color", "")) for node in result["nodes"]
        ]
    elif method == "decode":
        assert answer == result
    elif method == "getroute":
        assert answer == [
            SendpayHop(hop["id"], hop["channel"], hop["direction"], hop["amount_msat"], hop["delay"])
            for hop in result["route"]
        ]
        assert all(is_msat(hop.amount_msat) for hop in answer)
    elif method in ("sendpay", "waitsendpay"):
        assert isinstance(answer, SendPayment)
        check_payment(answer, result)
    elif method == "listsendpays":
        payments = answer.payments if isinstance(answer, Page) else answer
        assert len(payments) == len(result["payments"])
        for payment, obj in zip(payments, result["payments"], strict=True):
            check_payment(payment, obj)
        if isinstance(answer, Page):
            limit = call.params["limit"]
            assert answer.next_start == (payments[-1].created_index + 1 if len(payments) == limit else None)
    else:
        assert answer == result


def sent_route(calls: Sequence[RecordedCall], call: RecordedCall) -> Route | None:
    """The route the failing part was sent on: the recorded sendpay request of that payment_hash and partid."""
    if call.method == "sendpay":
        return route_of(call.params["route"])
    data = call.error["data"] if call.error else {}
    payment_hash, partid = data.get("payment_hash"), data.get("partid", 0)
    for earlier in reversed(calls[: call.index]):
        params = earlier.params
        if (
            earlier.method == "sendpay"
            and earlier.result is not None
            and params.get("payment_hash") == payment_hash
            and params.get("partid", 0) == partid
        ):
            return route_of(params["route"])
    return None


def check_explanation(explanation: FailureExplanation, failure: RoutingFailure, route: Route, code: int) -> None:
    """The explainer places the failure on the route where lightningd said it happened."""
    name, step = EXPECTED_FAILURES[str(failure.failcodename)]
    assert explanation.name == name
    assert explanation.failcodename == failure.failcodename
    assert explanation.failcode == failure.failcode
    assert explanation.erring_index == failure.erring_index
    assert explanation.erring_node == failure.erring_node
    assert explanation.erring_hop is not None
    hop = route.hops[explanation.erring_hop]
    if failure.erring_channel is not None:
        assert (explanation.erring_channel, explanation.erring_direction) == (
            failure.erring_channel,
            failure.erring_direction,
        )
    assert (hop.short_channel_id, hop.direction) == (explanation.erring_channel, explanation.erring_direction)
    if failure.erring_index == 0:  # our own node refused: the first channel
        assert explanation.from_us and explanation.erring_hop == 0 and explanation.erring_node == A
        assert explanation.erring_alias == "this node"
    elif explanation.from_destination:  # the payee: the channel into it
        assert failure.erring_node == route.destination and explanation.erring_hop == len(route.hops) - 1
        assert failure.erring_index == len(route.hops)
    else:  # a node on the way: the channel it could not forward over
        assert route.node_before(explanation.erring_hop) == failure.erring_node
        assert explanation.erring_alias == NAMES[failure.erring_node]
    assert explanation.from_destination == (code == 203 or failure.failcodename == "WIRE_MPP_TIMEOUT")
    assert explanation.next_step is step
    if step is NextStep.RETRY_ELSEWHERE:
        assert explanation.exclusions == (f"{hop.short_channel_id}/{hop.direction}",)
        assert f"around {explanation.erring_alias}'s channel {hop.short_channel_id}/{hop.direction}" in (
            explanation.summary
        )
    elif step is NextStep.UPDATE_AND_RETRY:
        # The channel_update in raw_message: the erring channel's real policy (1 msat + 10 ppm, delta 6).
        update = explanation.channel_update
        assert update is not None and update.short_channel_id_dir == f"{hop.short_channel_id}/{hop.direction}"
        assert (update.fee_base_msat, update.fee_proportional_millionths, update.cltv_expiry_delta) == (1, 10, 6)
        assert "1 msat + 10 ppm and CLTV delta 6" in explanation.advice
        assert explanation.exclusions == ()
    else:
        assert explanation.exclusions == ()


def check_error(error: NodeError, call: RecordedCall, calls: Sequence[RecordedCall]) -> None:
    """NodeError carries lightningd's code, message and data; 203/204 data reads as a RoutingFailure."""
    recorded_error = call.error
    assert recorded_error is not None
    assert (error.code, error.message, error.data) == (
        recorded_error["code"],
        recorded_error["message"],
        recorded_error.get("data"),
    ), str(call)
    if error.code not in (203, 204):
        return
    data = recorded_error["data"]
    failure = RoutingFailure.from_data(error.data)
    for name in ("erring_index", "failcode", "failcodename", "erring_node", "raw_message"):
        assert getattr(failure, name) == data.get(name), name
    assert (failure.erring_channel, failure.erring_direction) == (
        data.get("erring_channel"),
        data.get("erring_direction"),
    )
    if "payment_hash" in data:  # a part's failure: the part as the node saw it when it failed
        assert failure.payment is not None
        check_payment(failure.payment, data)
        assert failure.payment.status in ("pending", "failed")
    else:  # sendpay refused the first hop itself: no part was created
        assert call.method == "sendpay" and failure.payment is None and failure.erring_index == 0
    route = sent_route(calls, call)
    assert route is not None, f"{call}: no recorded sendpay for this failure"
    check_explanation(explain(failure, route, error.code), failure, route, error.code)


def target_of(call: RecordedCall, *, destination: str = C) -> PaymentTarget:
    """The payment a recorded sendpay was part of."""
    params, result = call.params, call.result or {}
    return PaymentTarget(
        payment_hash=params["payment_hash"],
        payment_secret=params.get("payment_secret"),
        destination=destination,
        amount_msat=int(params.get("amount_msat") or result.get("amount_msat") or params["route"][-1]["amount_msat"]),
        min_final_cltv_expiry=MIN_FINAL_CLTV,
    )


def events_of(session: PaymentSession, kind: type[PaymentEvent]) -> list[Any]:
    return [event for event in session.events if isinstance(event, kind)]


def wait_for(session: PaymentSession, kind: type[PaymentEvent], timeout: float = 5, **fields: Any) -> Any:
    """The first event of ``kind`` with these field values, waiting for the watcher threads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events_of(session, kind):
            if all(getattr(event, name) == value for name, value in fields.items()):
                return event
        time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} {fields}; events: {[type(e).__name__ for e in session.events]}")


def listnodes_answer(node_id: str) -> dict[str, Any]:
    """``listnodes <id>`` as lightningd answers it: the node's entry in the recorded ``listnodes`` (basics.json)."""
    nodes = recorded("basics.json", 11).result["nodes"]
    return {"result": {"nodes": [node for node in nodes if node["nodeid"] == node_id]}}


def policies_with_recorded_aliases(client: PylnNode) -> ChannelPolicies:
    """Aliases from the recorded ``listnodes`` (basics.json), so routes name their nodes without asking."""
    policies = ChannelPolicies(client, A)
    for node in recorded("basics.json", 11).result["nodes"]:
        policies.aliases.remember(node["nodeid"], node.get("alias", ""))
    return policies


# ---------------------------------------------------------------------------------------------------------------
# 1 and 2: every recorded answer through the node client


@pytest.mark.parametrize("name", TRANSCRIPT_FILES)
def test_every_recorded_answer_reads_through_the_node_client(replay: ReplayFactory, name: str) -> None:
    """Each recorded request, made again through PylnNode's typed method, gets lightningd's answer: results parse
    into the typed values, errors raise NodeError with the recorded code, message and data, and 203/204 failures
    are located on the route they were sent on."""
    calls = load_calls(name)
    checked = 0
    for node_name in sorted({call.node for call in calls}):
        server = replay(name, node=node_name)
        client = PylnNode(server.socket_path)
        for call in (call for call in calls if call.node == node_name):
            if call.error is not None:
                with pytest.raises(NodeError) as caught:
                    invoke(client, call.method, call.params)
                assert caught.value.method == call.method
                check_error(caught.value, call, calls)
            else:
                check_result(call, invoke(client, call.method, call.params))
            served = server.requests()[-1]
            assert served.call == call and served.how == "exact", f"{call}: served {served.call} ({served.how})"
            checked += 1
        assert not server.unmatched
    assert checked == len(calls)


def test_the_transcripts_cover_what_the_console_must_understand() -> None:
    """The sweep above sees every console method succeed, and the failures the issue names."""
    calls = [call for name in TRANSCRIPT_FILES for call in load_calls(name)]
    succeeded = {call.method for call in calls if call.result is not None}
    assert set(CONSOLE_METHODS) <= succeeded
    errors = {(call.method, call.error["code"], call.error["message"]) for call in calls if call.error}
    assert ("decodepay", -32601, "Unknown command 'decodepay'") in errors
    assert ("getroute", -32601, 'Command "getroute" is deprecated') in errors
    assert ("sendpay", 204, "No connection to first peer found") in errors
    failcodes = {
        call.error["data"]["failcodename"] for call in calls if call.error and call.error["code"] in (203, 204)
    }
    assert failcodes == set(EXPECTED_FAILURES)


def test_first_failure_report_says_pending_and_later_ones_failed() -> None:
    """The first waitsendpay that reports a part's failure carries it as ``pending``; later answers (waitsendpay,
    listsendpays) as ``failed``. Both statuses occur, so both are read (the sessions below act on both)."""
    statuses: dict[tuple[str, int, int], list[str]] = {}
    for name in TRANSCRIPT_FILES:
        for call in load_calls(name):
            error = call.error
            if call.method == "waitsendpay" and error and error["code"] in (203, 204):
                data = error["data"]
                statuses.setdefault((data["payment_hash"], data["groupid"], data.get("partid", 0)), []).append(
                    data["status"]
                )
    assert len(statuses) >= 8
    for reports in statuses.values():
        assert reports[0] == "pending" and all(status == "failed" for status in reports[1:]), reports
    assert any(len(reports) > 1 for reports in statuses.values())


# ---------------------------------------------------------------------------------------------------------------
# 3: the payment session on recorded answers


def test_mpp_retry_part_fails_at_e_then_goes_again_as_partid_3(replay: ReplayFactory) -> None:
    """sendpay_mpp_retry.json as the engine lives it: attach to parts 1 and 2 (sent before we look), part 2's
    first failure report (status pending) explained at E, the retry sent as exactly the recorded sendpay
    (partid 3, same group, via D), both parts complete with a preimage that hashes to the payment_hash."""
    calls = load_calls("sendpay_mpp_retry.json")
    server = replay("sendpay_mpp_retry.json", start=10)
    server.add("listnodes", {"id": E}, listnodes_answer(E), note="E's entry in basics.json #11")
    client = PylnNode(server.socket_path)
    target = target_of(calls[8])
    session = PaymentSession(client, target, poll_timeout_s=1, pending_interval_s=60)

    found = session.attach()
    assert isinstance(found, Pending) and found.groupid == 5
    assert {part.partid: part.status for part in found.parts} == {1: "pending", 2: "failed"}
    assert {event.partid for event in events_of(session, PartAttached)} == {1, 2}

    failed = wait_for(session, PartFailed, partid=2)
    assert failed.code == 204 and failed.status == "failed"
    assert failed.failure.payment.status == "pending"  # the first report, as lightningd words it
    assert failed.retryable and not failed.final
    assert (failed.explanation.name, failed.explanation.next_step) == (
        "temporary_channel_failure",
        NextStep.RETRY_ELSEWHERE,
    )
    assert failed.explanation.erring_node == E and failed.explanation.exclusions == ("103x6x0/1",)
    assert session.excluded_channels == ("103x6x0/1",)
    # An attached part has no route: the session asks the node for the erring node's alias (once).
    assert failed.explanation.erring_alias == "E" and len(server.requests("listnodes")) == 1
    assert failed.message.startswith("temporary_channel_failure at E on 103x6x0/1: Reroute this part around E")
    # On the route it was sent on (the recorded sendpay #9: A-B-E-C), E is hop 2's start and 103x6x0 hop 2.
    placed = explain(failed.failure, route_of(calls[9].params["route"]), 204)
    assert (placed.erring_hop, placed.erring_alias, placed.next_step) == (2, "E", NextStep.RETRY_ELSEWHERE)
    assert placed.summary.startswith("temporary_channel_failure at E on 103x6x0/1: Reroute this part around E")

    again = session.retry_part(2, groupid=5, route=route_of(calls[15].params["route"]))
    assert (again.groupid, again.partid, again.retry_of) == (5, 3, (5, 2))
    outcome = session.wait(5)
    assert isinstance(outcome, PaymentComplete), session.events
    assert (outcome.amount_msat, outcome.parts, outcome.groupid) == (129057500, 2, 5)
    assert outcome.fee_msat == (37352874 - 37352500) + (91705918 - 91705000)
    assert outcome.preimage == calls[17].result["payment_preimage"]
    completed = events_of(session, PartComplete)
    assert {event.partid for event in completed} == {1, 3} and all(event.preimage_verified for event in completed)
    assert [event.partid for event in events_of(session, PartSent)] == [3]

    # Exactly the recorded calls: the refused resend of partid 2 (#14) is never made.
    sendpays = server.requests("sendpay")
    assert [(served.call.index, served.how) for served in sendpays] == [(15, "exact")]  # type: ignore[union-attr]
    assert {10, 17, 18} <= set(server.served_indices("waitsendpay"))
    assert set(server.served_indices("listsendpays")) == {12}  # the retry's check saw the state before #15
    assert not server.unmatched
    session.stop(join=True)


def test_mpp_retry_attached_late_reads_the_failed_status_as_a_failure(replay: ReplayFactory) -> None:
    """The same payment picked up after part 3 went out (by another console): listsendpays #16 shows parts 1 and
    3 pending and 2 failed; part 2's later report (status ``failed``) is the same failure; the payment completes
    with nothing sent by us."""
    server = replay("sendpay_mpp_retry.json", start=10, skip=(10, 12, 15))
    client = PylnNode(server.socket_path)
    session = PaymentSession(client, target_of(load_calls("sendpay_mpp_retry.json")[8]), poll_timeout_s=1)
    found = session.attach()
    assert isinstance(found, Pending)
    assert {part.partid: part.status for part in found.parts} == {1: "pending", 2: "failed", 3: "pending"}
    outcome = session.wait(5)
    assert isinstance(outcome, PaymentComplete) and (outcome.amount_msat, outcome.parts) == (129057500, 2)
    failed = wait_for(session, PartFailed, partid=2)
    assert failed.failure.payment.status == "failed" and failed.code == 204
    assert failed.explanation.name == "temporary_channel_failure" and failed.retryable
    assert server.served_indices("waitsendpay").count(11) == 1
    assert not server.requests("sendpay") and not server.unmatched
    session.stop(join=True)


def test_mpp_retry_completed_by_a_part_we_did_not_watch_reports_the_whole_payment(replay: ReplayFactory) -> None:
    """Attached while parts 1 (pending) and 2 (failed) were all there was (listsendpays #12); part 3 then went out
    from another console (#15, not ours). Part 1 completes: the payee got the whole 129057500 msat over parts 1
    and 3, and the payment's verdict must say so, not 37352500 msat in one part."""
    server = replay("sendpay_mpp_retry.json", start=10, skip=(15,))
    client = PylnNode(server.socket_path)
    session = PaymentSession(client, target_of(load_calls("sendpay_mpp_retry.json")[8]), poll_timeout_s=1)
    session.attach()
    outcome = session.wait(5)
    session.stop(join=True)
    assert isinstance(outcome, PaymentComplete)
    assert (outcome.amount_msat, outcome.parts, outcome.fee_msat) == (129057500, 2, 1292)
    # Part 1's 37352500 msat were not the total: the node was asked once more (#16), and part 3 watched to the end.
    assert server.served_indices("listsendpays") == [12, 16]
    assert [event.partid for event in events_of(session, PartAttached)] == [1, 2, 3]
    assert {event.partid for event in events_of(session, PartComplete)} == {1, 3}
    assert not server.requests("sendpay") and not server.unmatched


def test_mpp_timeout_pending_then_failed_by_the_payee(replay: ReplayFactory) -> None:
    """sendpay_mpp_timeout.json: one part of two is watched: 200 (still pending), then the payee's mpp_timeout
    (status pending in the report). The engine says to send the parts again together, in a new group."""
    calls = load_calls("sendpay_mpp_timeout.json")
    server = replay("sendpay_mpp_timeout.json", start=4)
    client = PylnNode(server.socket_path)
    target = target_of(calls[3])
    part = SendPayment.from_json(calls[3].result)
    session = PaymentSession(client, target, poll_timeout_s=1, pending_interval_s=0)
    session.attach(Pending(target.payment_hash, part.groupid, (part,)))
    outcome = session.wait(6)
    assert isinstance(outcome, PaymentFailed), session.events
    assert not outcome.final and outcome.retryable_parts == ((1, 1),)
    assert wait_for(session, PartPending, partid=1).status == "pending"
    failed = wait_for(session, PartFailed, partid=1)
    assert failed.failure.failcodename == "WIRE_MPP_TIMEOUT" and failed.failure.payment.status == "pending"
    assert failed.explanation.name == "mpp_timeout" and failed.retryable and not failed.final
    assert "in a new group" in failed.message
    assert server.served_indices("waitsendpay") == [4, 7]
    assert not server.requests("sendpay") and not server.unmatched


@pytest.mark.parametrize(
    ("sendpay_index", "outcome_kind", "failcode"),
    [
        (3, "final", "incorrect_or_unknown_payment_details"),
        (11, "retry", "temporary_channel_failure"),
        (15, "update", "fee_insufficient"),
        (19, "update", "incorrect_cltv_expiry"),
        (23, "complete", None),
        (27, "retry", "unknown_next_peer"),
        (31, "final", "incorrect_or_unknown_payment_details"),
    ],
)
def test_single_part_outcomes_from_sendpay_failures(
    replay: ReplayFactory, sendpay_index: int, outcome_kind: str, failcode: str | None
) -> None:
    """Each recorded single-part payment, watched from just after its sendpay: the recorded waitsendpay outcome
    becomes PartFailed (explained as on its route) or PartComplete, and the payment's verdict follows."""
    calls = load_calls("sendpay_failures.json")
    sent = calls[sendpay_index]
    server = replay("sendpay_failures.json", start=sendpay_index + 1)
    client = PylnNode(server.socket_path)
    target = target_of(sent)
    part = SendPayment.from_json(sent.result)
    session = PaymentSession(client, target, poll_timeout_s=1)
    session.attach(Pending(target.payment_hash, part.groupid, (part,)))
    outcome = session.wait(5)
    assert server.served_indices("waitsendpay") == [sendpay_index + 1]
    assert not server.unmatched
    if outcome_kind == "complete":
        assert isinstance(outcome, PaymentComplete) and outcome.amount_msat == target.amount_msat
        assert wait_for(session, PartComplete, partid=0).preimage_verified
        return
    assert isinstance(outcome, PaymentFailed)
    failed = wait_for(session, PartFailed, partid=0)
    assert failed.failure.payment.status == "pending" and failed.explanation.name == failcode
    placed = explain(failed.failure, route_of(sent.params["route"]), failed.code)
    assert (placed.next_step, placed.exclusions) == (failed.explanation.next_step, failed.explanation.exclusions)
    if outcome_kind == "final":
        assert failed.code == 203 and failed.final and outcome.final
        assert placed.from_destination and placed.erring_alias == "C"
    else:
        assert failed.code == 204 and failed.retryable and not outcome.final
        assert outcome.retryable_parts == ((1, 0),)
        expected_step = NextStep.RETRY_ELSEWHERE if outcome_kind == "retry" else NextStep.UPDATE_AND_RETRY
        assert placed.next_step is expected_step and placed.erring_alias in ("B", "D")
        if outcome_kind == "retry":
            assert session.excluded_channels == placed.exclusions


# ---------------------------------------------------------------------------------------------------------------
# 4: a 204 raised by sendpay itself


@pytest.mark.parametrize(("name", "index"), [("sendpay_failures.json", 33), ("sendpay_misc.json", 15)])
def test_sendpay_itself_raises_204_at_our_first_channel(replay: ReplayFactory, name: str, index: int) -> None:
    """ "No connection to first peer found": NodeError 204 from sendpay, erring_index 0, no part created; the
    explainer places it at us, on the route's first channel, and suggests a route without it."""
    call = load_calls(name)[index]
    server = replay(name, start=index)
    client = PylnNode(server.socket_path)
    params = call.params
    with pytest.raises(NodeError) as caught:
        client.sendpay(
            sendpay_hops(params["route"]), params["payment_hash"], payment_secret=params.get("payment_secret")
        )
    error = caught.value
    assert (error.method, error.code, error.message) == ("sendpay", 204, "No connection to first peer found")
    failure = RoutingFailure.from_data(error.data)
    assert (failure.erring_index, failure.erring_node, failure.payment) == (0, A, None)
    route = route_of(params["route"])
    placed = explain(failure, route, error.code)
    first = route.hops[0]
    assert placed.from_us and not placed.from_destination and placed.erring_hop == 0
    assert (placed.erring_channel, placed.erring_direction) == (first.short_channel_id, first.direction)
    assert placed.next_step is NextStep.RETRY_ELSEWHERE and placed.exclusions == (first.short_channel_id_dir,)
    assert placed.summary.startswith(f"unknown_next_peer at this node on {first.short_channel_id_dir}")
    assert server.served_indices() == [index]


def test_session_launch_reports_sendpays_own_204_as_a_failed_part(replay: ReplayFactory) -> None:
    """Launching a part over a channel we don't have (sendpay_failures #33): sendpay answers 204 at once; the
    session reports a failed, retryable part and a failed payment; nothing is watched, nothing crashes."""
    call = recorded("sendpay_failures.json", 33)
    server = replay(["sendpay_failures.json", "basics.json"], start=33)  # basics: our channels (listpeerchannels)
    # The recording has no preflight for this hash: lightningd's answer for a hash it never saw (listsendpays.json
    # #5) stands in for it.
    server.add(
        "listsendpays",
        {"payment_hash": call.params["payment_hash"]},
        recorded("listsendpays.json", 5).response,
        note="a hash the node never saw",
    )
    client = PylnNode(server.socket_path)
    route = route_of(call.params["route"])
    target = PaymentTarget(call.params["payment_hash"], None, B, route.amount_msat, MIN_FINAL_CLTV)
    session = PaymentSession(client, target, poll_timeout_s=1)
    launched = session.launch(single(target, route))
    assert launched.outcome == "sent" and launched.groupid == 1 and isinstance(launched.preflight, Fresh)
    failed = wait_for(session, PartFailed, partid=0, timeout=1)
    assert (failed.code, failed.status, failed.retryable, failed.final) == (204, "failed", True, False)
    assert failed.failure.erring_index == 0 and failed.failure.payment is None
    assert failed.explanation.from_us and failed.explanation.exclusions == ("1x1x1/0",)
    assert failed.message.startswith("sendpay refused the first hop: unknown_next_peer at this node on 1x1x1/0")
    outcome = session.wait(1)
    assert isinstance(outcome, PaymentFailed) and not outcome.final and outcome.retryable_parts == ((1, 0),)
    assert session.excluded_channels == ("1x1x1/0",)
    assert not events_of(session, PartSent)
    assert [(served.method, served.how) for served in server.requests()] == [
        ("listsendpays", "exact"),
        ("sendpay", "key"),  # the engine adds amount_msat, partid 0 and groupid 1 to the recorded request
        ("listpeerchannels", "exact"),  # is 1x1x1 ours, with another peer than the route names? (no: not ours)
    ]
    assert server.served_indices("sendpay") == [33]


def test_session_says_the_route_names_the_wrong_first_peer(replay: ReplayFactory) -> None:
    """sendpay_misc #15: the route's first hop names E over 103x3x0, our channel to D. lightningd answers 204 "No
    connection to first peer found" at erring_index 0, which alone reads as our channel failing; the session
    checks our channels (basics.json's listpeerchannels) and blames the route instead, excluding nothing."""
    call = recorded("sendpay_misc.json", 15)
    payment_hash = call.params["payment_hash"]
    server = replay(["sendpay_misc.json", "basics.json"], start=15)
    server.add(
        "listsendpays",
        {"payment_hash": payment_hash},
        recorded("listsendpays.json", 5).response,
        note="a hash the node never saw",
    )
    server.add("listnodes", {"id": D}, listnodes_answer(D), note="D's entry in basics.json #11")
    client = PylnNode(server.socket_path)
    route = route_of(call.params["route"])
    assert (route.hops[0].alias, route.hops[0].short_channel_id) == ("E", "103x3x0")
    target = PaymentTarget(payment_hash, None, C, route.amount_msat, MIN_FINAL_CLTV)
    session = PaymentSession(client, target, poll_timeout_s=1)
    session.launch(single(target, route))
    failed = wait_for(session, PartFailed, partid=0, timeout=1)
    assert failed.message == (
        "sendpay refused the first hop: the route's first hop names E but channel 103x3x0 leads to D."
    )
    assert (failed.code, failed.retryable, failed.final) == (204, True, False)
    assert failed.explanation.from_us and failed.explanation.exclusions == ()
    outcome = session.wait(1)
    assert isinstance(outcome, PaymentFailed) and outcome.retryable_parts == ((1, 0),)
    assert session.excluded_channels == () and session.excluded_nodes == ()
    assert [(served.method, served.how) for served in server.requests()] == [
        ("listsendpays", "exact"),
        ("sendpay", "key"),
        ("listpeerchannels", "exact"),
        ("listnodes", "exact"),
    ]
    assert server.served_indices("sendpay") == [15]


# ---------------------------------------------------------------------------------------------------------------
# 5: -32601 answers: decodepay, a deprecated getroute


def test_decode_reads_the_recorded_answer_and_never_asks_decodepay(replay: ReplayFactory) -> None:
    call = recorded("invoice_decode.json", 4)
    server = replay("invoice_decode.json")
    client = PylnNode(server.socket_path)
    assert client.decode(call.params["string"]) == call.result
    assert client.capabilities.decode is True
    assert [served.method for served in server.requests()] == ["decode"]


def test_decode_falls_back_to_decodepay_which_current_nodes_lack(replay: ReplayFactory) -> None:
    """A node answering -32601 to ``decode`` is asked ``decodepay``; this one (v26.06) answers -32601 to that too
    (invoice_decode.json #5), which reaches the caller as NodeError -32601; ``decode`` is not asked again."""
    bolt11 = recorded("invoice_decode.json", 4).params["string"]
    server = replay("invoice_decode.json", unknown_methods={"decode"})
    client = PylnNode(server.socket_path)
    for _ in range(2):
        with pytest.raises(NodeError) as caught:
            client.decode(bolt11)
        assert (caught.value.method, caught.value.code, caught.value.message) == (
            "decodepay",
            -32601,
            "Unknown command 'decodepay'",
        )
    assert client.capabilities.decode is False
    assert [(served.method, served.how) for served in server.requests()] == [
        ("decode", "unknown"),
        ("decodepay", "exact"),
        ("decodepay", "exact-again"),
    ]


@pytest.mark.parametrize("has_decode", [True, False])
def test_load_invoice_against_the_recorded_node(replay: ReplayFactory, has_decode: bool) -> None:
    """The console's own decode agrees with lightningd's on a real invoice; a node with neither decode nor
    decodepay is a warning, not a failure."""
    decoded = recorded("invoice_decode.json", 4)
    server = replay(["invoice_decode.json", "basics.json"], unknown_methods=() if has_decode else {"decode"})
    client = PylnNode(server.socket_path)
    payable = load_invoice(client, decoded.params["string"], now=decoded.result["created_at"] + 60)
    assert payable.problems == ()
    assert (payable.invoice.payee, payable.amount_msat, payable.node_id) == (C, 50000000, A)
    assert payable.invoice.payment_hash == decoded.result["payment_hash"]
    neither = "the node has neither decode nor decodepay: the invoice was not checked by the node"
    if has_decode:
        assert payable.node_decode == decoded.result and neither not in payable.warnings
    else:
        assert payable.node_decode is None and neither in payable.warnings
    assert not server.unmatched


def test_route_finder_falls_back_to_getroute_when_getroutes_is_unknown(replay: ReplayFactory) -> None:
    """getroute.json's node has no getroutes (-32601 here): RouteFinder asks it once, then uses getroute with the
    user's exclusions; routes equal the recorded answers, and a 205 becomes RouteNotFound with lightningd's words."""
    calls = load_calls("getroute.json")
    server = replay("getroute.json")
    client = PylnNode(server.socket_path)
    finder = RouteFinder(client, A, policies=policies_with_recorded_aliases(client))

    [route] = finder.find(C, 10_000_000, final_cltv=18, riskfactor=1)
    assert route == route_of(calls[1].result["route"])
    assert [hop.alias for hop in route.hops] == ["B", "C"] and route.fee_msat == 101
    [via_d] = finder.find(C, 10_000_000, final_cltv=9, riskfactor=1, exclude_channels=["103x1x0/0"])
    assert via_d == route_of(calls[2].result["route"]) and [hop.alias for hop in via_d.hops] == ["D", "C"]
    [long] = finder.find(C, 10_000_000, final_cltv=9, riskfactor=1, exclude_nodes=[D], exclude_channels=["103x2x0/0"])
    assert [hop.alias for hop in long.hops] == ["B", "E", "C"] and long == route_of(calls[3].result["route"])
    with pytest.raises(RouteNotFound) as caught:
        finder.find(C, 10_000_000, final_cltv=9, riskfactor=1, exclude_nodes=[B, D])
    assert (caught.value.code, caught.value.reason) == (205, "Could not find a route")
    with pytest.raises(RouteNotFound) as caught:
        finder.find(C, 10_000_000, final_cltv=9, riskfactor=1, maxhops=1)
    assert (caught.value.code, caught.value.reason) == (205, "Shortest route was 2")

    assert client.capabilities.getroutes is False and not finder.uses_getroutes
    assert [served.how for served in server.requests("getroutes")] == ["unknown"]
    assert server.served_indices("getroute") == [1, 2, 3, 4, 8]
    assert not server.unmatched


def test_route_finder_on_a_node_whose_getroute_is_deprecated(replay: ReplayFactory) -> None:
    """With deprecated APIs off, getroute answers -32601 ``Command "getroute" is deprecated`` (getroute.json #14).
    A node that also lacks getroutes leaves RouteFinder no finder: RouteNotFound -32601 saying so."""
    server = replay("getroute.json", start=14)
    client = PylnNode(server.socket_path)
    with pytest.raises(NodeError) as caught:
        client.getroute(C, 10_000_000, riskfactor=1)
    assert (caught.value.code, caught.value.message) == (-32601, 'Command "getroute" is deprecated')
    finder = RouteFinder(client, A, policies=policies_with_recorded_aliases(client))
    with pytest.raises(RouteNotFound) as found:
        finder.find(C, 10_000_000, final_cltv=18, riskfactor=1)
    assert found.value.code == -32601 and "neither getroutes nor getroute" in found.value.reason
    assert [served.method for served in server.requests()] == ["getroute", "getroutes", "getroute"]
    assert not server.unmatched


def test_route_finder_uses_getroutes_where_getroute_is_deprecated(replay: ReplayFactory) -> None:
    """A current node: getroute deprecated (getroute.json #14), getroutes answering. The transcripts hold no
    getroutes answer, so one is written here in v26.06's shape (schemas/getroutes.json) for the path the recorded
    getroute #1 found: the finder asks getroutes only, and reads it as the very route getroute gave."""
    getroute_answer = recorded("getroute.json", 1).result["route"]
    server = replay("getroute.json", start=14)
    server.add(
        "getroutes",
        {"source": A, "destination": C, "amount_msat": 10_000_000},
        {"result": getroutes_answer(getroute_answer, final_cltv=18)},
        note="made up from getroute.json #1: the same path in getroutes' shape",
    )
    client = PylnNode(server.socket_path)
    finder = RouteFinder(client, A, policies=policies_with_recorded_aliases(client))
    [route] = finder.find(C, 10_000_000, final_cltv=18)
    assert route == route_of(getroute_answer)
    assert client.capabilities.getroutes is True
    assert [served.method for served in server.requests()] == ["getroutes"]
    getroutes_params = server.requests("getroutes")[0].params
    assert getroutes_params["layers"] == ["auto.localchans", "auto.sourcefree"]
    assert (getroutes_params["final_cltv"], getroutes_params["maxparts"]) == (18, 1)


def getroutes_answer(route: Sequence[Mapping[str, Any]], *, final_cltv: int) -> dict[str, Any]:
    """A getroutes answer for a getroute-shaped route: each path hop's out side is what arrives at its far end;
    its in side adds the hop's fee and delta (none on our own first channel: ``auto.sourcefree``)."""
    path = []
    for index, hop in enumerate(route):
        into = route[index - 1] if index else hop
        path.append(
            {
                "short_channel_id_dir": f"{hop['channel']}/{hop['direction']}",
                "node_id_in": route[index - 1]["id"] if index else A,
                "node_id_out": hop["id"],
                "amount_in_msat": into["amount_msat"],
                "amount_out_msat": hop["amount_msat"],
                "cltv_in": into["delay"],
                "cltv_out": hop["delay"],
            }
        )
    amount = route[-1]["amount_msat"]
    return {
        "probability_ppm": 999_000,
        "routes": [{"probability_ppm": 999_000, "amount_msat": amount, "final_cltv": final_cltv, "path": path}],
    }


def test_replay_refuses_what_was_not_recorded(replay: ReplayFactory) -> None:
    """The replay itself: an unrecorded request fails loudly (-32601 naming it); pyln's requests go back to back."""
    server: ReplayNode = replay("basics.json")
    client = PylnNode(server.socket_path)
    with pytest.raises(NodeError) as caught:
        client.listnodes(B)
    assert caught.value.code == -32601 and "no recorded call has these params" in caught.value.message
    assert [served.how for served in server.unmatched] == ["unmatched"]
    rpc = LightningRpc(server.socket_path)
    with rpc.notify(lambda **_: None):  # pyln then sends a `notifications` request first, on the same connection
        assert rpc.getinfo()["id"] == A
    assert [served.how for served in server.served[-2:]] == ["notifications", "exact"]
    assert json.dumps(server.requests()[-1].params) == "{}"
