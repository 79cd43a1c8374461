"""BOLT 4 failures explained: the table against onion_wire.csv, real lightningd failures replayed from the
transcripts, and failures the simulated node produces live."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lnconsole.failures import (
    BADONION,
    FAILURES,
    FAILURES_BY_NAME,
    NODE,
    PERM,
    UPDATE,
    NextStep,
    decode_failure_message,
    explain,
    failure_kind,
)
from lnconsole.node import NodeError, PylnNode, RoutingFailure, SendpayHop
from lnconsole.routing import Hop, Route
from tests.conftest import SHARED, RunningSim

ONION_WIRE = SHARED / "cln" / "onion_wire.csv"
TRANSCRIPTS = SHARED / "cln" / "transcripts"
FLAG_VALUES = {"BADONION": BADONION, "PERM": PERM, "NODE": NODE, "UPDATE": UPDATE}


# ---------------------------------------------------------------------------------------------------------------
# The table


def _csv_failures(path: Path) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """name -> (failcode, [(field, type)]) from onion_wire.csv's ``msgtype``/``msgdata`` rows."""
    found: dict[str, tuple[int, list[tuple[str, str]]]] = {}
    with path.open() as handle:
        for row in csv.reader(line for line in handle if not line.startswith("#")):
            if not row:
                continue
            if row[0] == "msgtype":
                *flags, number = row[2].split("|")
                code = int(number) + sum(FLAG_VALUES[flag] for flag in flags)
                found[row[1]] = (code, [])
            elif row[0] == "msgdata" and row[1] in found:
                kind = row[3] if len(row) < 5 or not row[4] else f"{row[3]},{row[4]}"
                found[row[1]][1].append((row[2], kind))
    return found


def test_table_covers_every_failure_in_onion_wire_csv() -> None:
    expected = _csv_failures(ONION_WIRE)
    assert len(expected) >= 22
    assert set(FAILURES_BY_NAME) == set(expected)
    for name, (code, fields) in expected.items():
        kind = FAILURES_BY_NAME[name]
        assert kind.code == code, name
        assert FAILURES[code] is kind
        assert kind.failcodename == "WIRE_" + name.upper()
        assert list(kind.fields) == fields, name
        assert kind.flags == tuple(flag for flag, bit in FLAG_VALUES.items() if code & bit)
    # The README's examples.
    assert FAILURES_BY_NAME["temporary_channel_failure"].code == 0x1007 == 4103
    assert FAILURES_BY_NAME["incorrect_or_unknown_payment_details"].code == 0x400F == 16399
    assert FAILURES_BY_NAME["mpp_timeout"].code == 23


def test_next_steps_follow_bolt4() -> None:
    steps = {name: kind.next_step for name, kind in FAILURES_BY_NAME.items()}
    for name in ("fee_insufficient", "incorrect_cltv_expiry", "expiry_too_soon", "amount_below_minimum"):
        assert steps[name] is NextStep.UPDATE_AND_RETRY
    for name in (
        "incorrect_or_unknown_payment_details",
        "final_incorrect_cltv_expiry",
        "final_incorrect_htlc_amount",
        "mpp_timeout",
    ):
        assert steps[name] is NextStep.STOP
        assert FAILURES_BY_NAME[name].final_only
    for name in ("temporary_channel_failure", "permanent_channel_failure", "unknown_next_peer", "channel_disabled"):
        assert steps[name] is NextStep.RETRY_ELSEWHERE
    for name in ("temporary_node_failure", "permanent_node_failure", "invalid_onion_hmac"):
        assert steps[name] is NextStep.EXCLUDE_NODE
    assert "whole payment" in FAILURES_BY_NAME["mpp_timeout"].stop_advice


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(failcode=st.integers(0, 0xFFFF))
def test_every_failcode_has_an_explanation_and_a_next_step(failcode: int) -> None:
    kind = failure_kind(failcode)
    assert kind.code == failcode
    assert kind.explanation.endswith(".") and len(kind.explanation) > 20
    assert isinstance(kind.next_step, NextStep)
    assert kind.failcodename
    assert kind.known == (failcode in FAILURES)


@pytest.mark.parametrize("code", sorted(FAILURES))
def test_every_known_failcode_explains_on_a_route(code: int) -> None:
    route = _route(["B", "C"])
    for index in range(3):
        explanation = explain(RoutingFailure.from_data({"erring_index": index, "failcode": code}), route, 204)
        assert explanation.name == FAILURES[code].name
        assert explanation.explanation and explanation.advice
        if explanation.next_step in (NextStep.STOP, NextStep.UPDATE_AND_RETRY):
            assert explanation.exclusions == ()
        else:
            assert explanation.exclusions, (code, index)
            assert "C" not in explanation.exclusions  # never exclude the destination
        if index == 2:
            assert explanation.from_destination and explanation.next_step is NextStep.STOP


_ids = st.sampled_from(["A", "B", "C", "D", "02" + "ab" * 32, None, "", 7])


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "erring_index": st.one_of(st.integers(-3, 6), st.none(), st.text(max_size=3)),
            "failcode": st.one_of(st.integers(-5, 0x10000), st.none()),
            "erring_node": _ids,
            "erring_channel": st.sampled_from(["103x1x0", "103x2x0", "9x9x9", None]),
            "erring_direction": st.one_of(st.integers(-1, 2), st.none()),
            "raw_message": st.one_of(st.none(), st.text(max_size=12), st.binary(max_size=200).map(bytes.hex)),
        },
    ),
    hops=st.integers(0, 3),
    with_route=st.booleans(),
    code=st.sampled_from([None, 202, 203, 204]),
)
def test_explain_never_raises(data: dict[str, Any], hops: int, with_route: bool, code: int | None) -> None:
    route = _route([["B"], ["B", "C"], ["B", "E", "C"]][hops - 1] if hops else []) if with_route else None
    explanation = explain(RoutingFailure.from_data(data), route, code)
    assert explanation.advice and explanation.explanation and explanation.summary
    assert isinstance(explanation.next_step, NextStep)
    if explanation.from_destination:
        assert explanation.next_step is NextStep.STOP
    if route is not None:
        assert "A" not in explanation.exclude_nodes  # never exclude ourselves
        assert route.destination not in explanation.exclude_nodes or not route.hops


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_raw_message_decodes_or_is_none(raw: bytes) -> None:
    message = decode_failure_message(raw.hex())
    if len(raw) < 2:
        assert message is None
    else:
        assert message is not None and message.failcode == int.from_bytes(raw[:2], "big")


def test_unknown_failcode_gets_a_generic_explanation() -> None:
    explanation = explain(RoutingFailure.from_data({"erring_index": 1, "failcode": 0x2063}), _route(["B", "C"]), 204)
    assert explanation.name == "unknown_failure_8291"
    assert "does not know" in explanation.explanation and "NODE" in explanation.explanation
    assert explanation.next_step is NextStep.EXCLUDE_NODE and explanation.exclusions == ("B",)
    no_code = explain(RoutingFailure.from_data({}), None, 202)
    assert no_code.next_step is NextStep.RETRY_ELSEWHERE and no_code.exclusions == ()
    assert "could not be decrypted" in no_code.explanation


def test_badonion_blames_the_node_after_the_reporter() -> None:
    """lightningd: a BADONION failure is reported on behalf of the next node (remote_routing_failure)."""
    route = _route(["B", "E", "C"])
    failure = RoutingFailure.from_data({"erring_index": 1, "failcode": FAILURES_BY_NAME["invalid_onion_hmac"].code})
    explanation = explain(failure, route, 204)
    assert explanation.erring_node == "E" and explanation.erring_channel == "103x5x0"
    assert explanation.next_step is NextStep.EXCLUDE_NODE and explanation.exclusions == ("E",)
    # On behalf of the destination: nothing to reroute around.
    last = explain(RoutingFailure.from_data({"erring_index": 2, "failcode": failure.failcode}), route, 204)
    assert last.erring_node == "C" and last.from_destination and last.next_step is NextStep.STOP


# ---------------------------------------------------------------------------------------------------------------
# Real lightningd failures (the replay the issue asks for)


def _route(nodes: list[str], source: str = "A") -> Route:
    """A route over the transcripts' network by alias: A-B 103x1x0, B-C 103x2x0, A-D 103x3x0, D-C 103x4x0 ..."""
    scids = {
        ("A", "B"): "103x1x0",
        ("B", "C"): "103x2x0",
        ("A", "D"): "103x3x0",
        ("D", "C"): "103x4x0",
        ("B", "E"): "103x5x0",
        ("E", "C"): "103x6x0",
    }
    hops, previous = [], source
    for node in nodes:
        scid = scids.get((previous, node)) or scids[(node, previous)]
        hops.append(Hop(node, scid, int(previous > node), 1000, 10, alias=node))
        previous = node
    return Route(tuple(hops), source)


def _replayed_failures() -> list[tuple[str, int, dict[str, Any], Route]]:
    """Every 202/203/204 in the failure transcripts, with the route of the sendpay that made it."""
    found = []
    for name in ("sendpay_failures.json", "sendpay_mpp_retry.json", "sendpay_mpp_timeout.json"):
        transcript = json.loads((TRANSCRIPTS / name).read_text())
        sent: dict[tuple[str, int], tuple[list[dict[str, Any]], str]] = {}
        for call in transcript["calls"]:
            request, response = call["request"], call["response"]
            params = request.get("params") or {}
            if request["method"] == "sendpay":
                key = (params["payment_hash"], int(params.get("partid", 0)))
                sent.setdefault(key, (params["route"], call["node_id"]))
            error = response.get("error")
            if not error or error["code"] not in (202, 203, 204):
                continue
            key = (params["payment_hash"], int(params.get("partid", 0)))
            raw_route, source = sent[key]
            route = Route(
                tuple(Hop(h["id"], h["channel"], h["direction"], h["amount_msat"], h["delay"]) for h in raw_route),
                source,
            )
            found.append((f"{name}#{request['id']}", error["code"], error.get("data") or {}, route))
    return found


REPLAYED = _replayed_failures()


def test_transcripts_hold_the_expected_failures() -> None:
    names = sorted(data.get("failcodename", "") for _, _, data, _ in REPLAYED)
    assert names.count("WIRE_TEMPORARY_CHANNEL_FAILURE") == 3
    for name in ("WIRE_FEE_INSUFFICIENT", "WIRE_INCORRECT_CLTV_EXPIRY", "WIRE_UNKNOWN_NEXT_PEER", "WIRE_MPP_TIMEOUT"):
        assert name in names
    assert names.count("WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS") == 2


@pytest.mark.parametrize(("where", "code", "data", "route"), REPLAYED, ids=[item[0] for item in REPLAYED])
def test_replayed_failure_is_located_and_explained(where: str, code: int, data: dict[str, Any], route: Route) -> None:
    failure = RoutingFailure.from_data(data)
    explanation = explain(failure, route, code)
    name = data["failcodename"][5:].lower()
    assert explanation.name == name
    assert explanation.failcode == data["failcode"]
    assert explanation.erring_index == data["erring_index"]
    assert explanation.erring_node == data["erring_node"]
    index = data["erring_index"]
    if index == 0:  # sendpay itself refused: our first channel, our node
        assert explanation.from_us and explanation.erring_hop == 0
        assert explanation.erring_channel == route.hops[0].short_channel_id
        assert explanation.next_step is NextStep.RETRY_ELSEWHERE
        assert explanation.exclusions == (route.hops[0].short_channel_id_dir,)
        return
    assert explanation.erring_node == route.hops[index - 1].node_id  # the route's k-th node
    hop = route.hops[min(index, len(route.hops) - 1)]  # the channel it could not forward over, or the last
    assert explanation.erring_hop == route.hops.index(hop)
    assert explanation.erring_channel_dir == f"{data['erring_channel']}/{data['erring_direction']}"
    assert explanation.erring_channel == hop.short_channel_id
    if name in ("incorrect_or_unknown_payment_details", "mpp_timeout"):
        assert explanation.from_destination and explanation.final
        assert explanation.next_step is NextStep.STOP and explanation.exclusions == ()
        assert (code == 203) == (name == "incorrect_or_unknown_payment_details")
        if name == "mpp_timeout":
            assert "whole payment" in explanation.advice
    elif name in ("temporary_channel_failure", "unknown_next_peer"):
        assert not explanation.from_destination
        assert explanation.next_step is NextStep.RETRY_ELSEWHERE
        assert explanation.exclude_channels == (explanation.erring_channel_dir,)
    else:
        assert name in ("fee_insufficient", "incorrect_cltv_expiry")
        assert explanation.next_step is NextStep.UPDATE_AND_RETRY and explanation.exclusions == ()
        update = explanation.channel_update
        assert update is not None and update.short_channel_id_dir == explanation.erring_channel_dir
        assert (update.fee_base_msat, update.fee_proportional_millionths, update.cltv_expiry_delta) == (1, 10, 6)
        assert "1 msat + 10 ppm and CLTV delta 6" in explanation.advice


def test_replayed_raw_messages_decode() -> None:
    by_name: dict[str, list[Any]] = {}
    for _, _, data, _ in REPLAYED:
        by_name.setdefault(data["failcodename"], []).append(decode_failure_message(data.get("raw_message")))
    details = by_name["WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"][0]
    assert details.fields == (("htlc_msat", 20_000_000), ("height", 108))
    fee = by_name["WIRE_FEE_INSUFFICIENT"][0]
    assert fee.field("htlc_msat") == 10_000_000 and fee.complete
    cltv = by_name["WIRE_INCORRECT_CLTV_EXPIRY"][0]
    assert cltv.field("cltv_expiry") == 119
    # channeld's form: len 0 and the update appended, as lightningd forwards it.
    temporary = by_name["WIRE_TEMPORARY_CHANNEL_FAILURE"][0]
    assert temporary.channel_update is not None
    assert temporary.channel_update.short_channel_id_dir == "103x4x0/1"
    assert temporary.channel_update.htlc_maximum_msat == 297_000_000
    assert not temporary.channel_update.disabled
    assert decode_failure_message("0017") is not None and decode_failure_message("0017").fields == ()
    assert decode_failure_message("400a").failcode == 0x400A
    assert decode_failure_message("zz") is None and decode_failure_message("10") is None


# ---------------------------------------------------------------------------------------------------------------
# Failures the simulated node produces


def _sim_route(node: PylnNode, sim: RunningSim, hops: list[SendpayHop]) -> Route:
    aliases = {summary.node_id: summary.alias for summary in node.listnodes()}
    return Route(
        tuple(Hop(h.id, h.channel, h.direction, h.amount_msat, h.delay, alias=aliases.get(h.id, "")) for h in hops),
        sim.alias("A"),
    )


def _pay_and_fail(
    sim: RunningSim,
    node: PylnNode,
    hops: list[SendpayHop],
    invoice: dict[str, Any],
    *,
    amount_msat: int | None = None,
    partid: int | None = None,
    payment_hash: str | None = None,
) -> NodeError:
    """Send over ``hops`` and return the failure, from sendpay itself or from waitsendpay."""
    try:
        node.sendpay(
            hops,
            payment_hash or invoice["payment_hash"],
            payment_secret=invoice["payment_secret"],
            amount_msat=amount_msat,
            partid=partid,
            groupid=1 if partid else None,
        )
        node.waitsendpay(
            payment_hash or invoice["payment_hash"], timeout=10, partid=partid, groupid=1 if partid else None
        )
    except NodeError as error:
        return error
    raise AssertionError("the payment did not fail")


def _invoice(sim: RunningSim, amount_msat: int) -> dict[str, Any]:
    return sim.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": amount_msat, "description": "fail me"})


def _names(node: PylnNode) -> dict[str, str]:
    return {summary.node_id: summary.alias for summary in node.listnodes()}


def test_live_channel_without_liquidity_is_rerouted_around(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 10_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10, exclude=[sim.alias("B")])
    assert [h.id for h in hops] == [sim.alias("D"), sim.alias("C")]
    sim.rpc.call(
        "dev-sim-channel", {"short_channel_id": hops[1].channel, "direction": hops[1].direction, "spendable_msat": 0}
    )
    error = _pay_and_fail(sim, node, hops, invoice)
    assert error.code == 204
    route = _sim_route(node, sim, hops)
    explanation = explain(RoutingFailure.from_data(error.data), route, error.code)
    assert explanation.name == "temporary_channel_failure"
    assert explanation.erring_index == 1 and explanation.erring_hop == 1
    assert explanation.erring_node == sim.alias("D") and explanation.erring_alias == "D"
    assert explanation.erring_channel_dir == route.hops[1].short_channel_id_dir
    assert explanation.next_step is NextStep.RETRY_ELSEWHERE
    assert explanation.exclusions == (route.hops[1].short_channel_id_dir,)
    assert explanation.summary.startswith(f"temporary_channel_failure at D on {route.hops[1].short_channel_id_dir}")
    # The exclusion works: a new route avoids that direction and the payment completes.
    retry = node.getroute(sim.alias("C"), 10_000_000, cltv=10, exclude=list(explanation.exclusions))
    assert retry[-1].channel != hops[1].channel
    node.sendpay(retry, invoice["payment_hash"], payment_secret=invoice["payment_secret"])
    assert node.waitsendpay(invoice["payment_hash"], timeout=10).status == "complete"


def test_live_our_own_channel_without_spendable(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 10_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10)
    sim.rpc.call(
        "dev-sim-channel", {"short_channel_id": hops[0].channel, "direction": hops[0].direction, "spendable_msat": 0}
    )
    error = _pay_and_fail(sim, node, hops, invoice)
    assert error.code == 204
    explanation = explain(RoutingFailure.from_data(error.data), _sim_route(node, sim, hops), error.code)
    assert explanation.erring_index == 0 and explanation.from_us and not explanation.from_destination
    assert explanation.erring_hop == 0 and explanation.erring_channel == hops[0].channel
    assert explanation.next_step is NextStep.RETRY_ELSEWHERE
    assert explanation.exclusions == (f"{hops[0].channel}/{hops[0].direction}",)


def test_live_fee_rise_asks_for_a_policy_refresh(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 10_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10, exclude=[sim.alias("D")])
    sim.rpc.call(
        "dev-sim-channel",
        {
            "short_channel_id": hops[1].channel,
            "direction": hops[1].direction,
            "base_fee_millisatoshi": 5000,
            "fee_per_millionth": 100,
        },
    )
    error = _pay_and_fail(sim, node, hops, invoice)
    route = _sim_route(node, sim, hops)
    explanation = explain(RoutingFailure.from_data(error.data), route, error.code, aliases=_names(node))
    assert explanation.name == "fee_insufficient" and explanation.erring_alias == "B"
    assert explanation.next_step is NextStep.UPDATE_AND_RETRY and explanation.exclusions == ()
    update = explanation.channel_update
    assert update is not None and (update.fee_base_msat, update.fee_proportional_millionths) == (5000, 100)
    # htlc_msat: what B was offered (B's fee of 101 msat, at the old policy, on top of the 10_000_000).
    assert explanation.message is not None and explanation.message.field("htlc_msat") == hops[0].amount_msat
    assert "5000 msat + 100 ppm" in explanation.advice


def test_live_unknown_payment_hash_is_final(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 10_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10)
    error = _pay_and_fail(sim, node, hops, invoice, payment_hash="11" * 32)
    assert error.code == 203
    explanation = explain(RoutingFailure.from_data(error.data), _sim_route(node, sim, hops), error.code)
    assert explanation.name == "incorrect_or_unknown_payment_details"
    assert explanation.from_destination and explanation.erring_alias == "C"
    assert explanation.erring_hop == len(hops) - 1
    assert explanation.next_step is NextStep.STOP and not explanation.retryable
    assert explanation.message is not None and explanation.message.field("htlc_msat") == 10_000_000


def test_live_mpp_timeout_is_final_for_the_part(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0, mpp_timeout_s=0.3)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 20_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10)
    error = _pay_and_fail(sim, node, hops, invoice, amount_msat=20_000_000, partid=1)
    assert error.code == 204
    explanation = explain(RoutingFailure.from_data(error.data), _sim_route(node, sim, hops), error.code)
    assert explanation.name == "mpp_timeout" and explanation.from_destination
    assert explanation.next_step is NextStep.STOP and "whole payment" in explanation.advice


def test_live_offline_node_is_located(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    invoice = _invoice(sim, 10_000_000)
    hops = node.getroute(sim.alias("C"), 10_000_000, cltv=10, exclude=[sim.alias("D")])
    assert hops[0].id == sim.alias("B")
    sim.rpc.call("dev-sim-node", {"id": "C", "online": False})
    error = _pay_and_fail(sim, node, hops, invoice)
    explanation = explain(RoutingFailure.from_data(error.data), _sim_route(node, sim, hops), error.code)
    assert explanation.name == "temporary_channel_failure"
    assert explanation.erring_node == sim.alias("B") and explanation.erring_hop == 1
    assert explanation.channel_update is not None and explanation.channel_update.disabled
    assert "now disabled (peer offline" in explanation.explanation
    assert explanation.next_step is NextStep.RETRY_ELSEWHERE
    assert explanation.exclusions == (f"{hops[1].channel}/{hops[1].direction}",)
