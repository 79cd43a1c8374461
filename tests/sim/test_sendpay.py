"""sendpay/waitsendpay of one part: success, resends, parameter errors and every failure along the route.

Expected answers are the real lightningd's (``shared/cln/transcripts/sendpay_*.json``): same codes, messages,
field sets and field order; node ids and directions differ only because the simulator holds its own keys.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest
from coincurve import PublicKey

from lnconsole.sim.payments import PaymentBook
from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import (
    PENDING_MESSAGE,
    ROUTING_KEYS,
    build_route,
    direction,
    failure_fields,
    half_of,
    inflight,
    make_invoice,
    rpc_error,
    sha256_hex,
)

REGTEST_CHAIN_HASH = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"


# --------------------------------------------------------------------------------------------------------
# Success


def test_single_part_success_and_waitsendpay_again(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 50_000_000, description="single part")
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 50_000_000)
    assert [hop["amount_msat"] for hop in route] == [50_000_501, 50_000_000]  # the transcript's route
    assert [hop["delay"] for hop in route] == [16, 10]
    ab_before = half_of(regtest, "103x1x0", "A").balance_msat
    bc_before = half_of(regtest, "103x2x0", "B").balance_msat
    cb_before = half_of(regtest, "103x2x0", "C").balance_msat

    sent = regtest.rpc.sendpay(
        route,
        invoice.payment_hash,
        label="single part",
        amount_msat=50_000_000,
        bolt11=invoice.bolt11,
        payment_secret=invoice.payment_secret,
    )
    assert_valid_response("sendpay", sent)
    expected = {
        "message": PENDING_MESSAGE,
        "created_index": 1,
        "id": 1,
        "payment_hash": invoice.payment_hash,
        "groupid": 1,
        "destination": regtest.alias("C"),
        "amount_msat": 50_000_000,
        "amount_sent_msat": 50_000_501,
        "created_at": sent["created_at"],
        "status": "pending",
        "label": "single part",
        "bolt11": invoice.bolt11,
    }
    assert sent == expected
    assert list(sent) == list(expected)  # in the order lightningd writes them

    done = regtest.rpc.waitsendpay(invoice.payment_hash, timeout=10)
    assert_valid_response("waitsendpay", done)
    assert list(done) == [
        "created_index", "id", "payment_hash", "groupid", "updated_index", "destination", "amount_msat",
        "amount_sent_msat", "created_at", "completed_at", "status", "payment_preimage", "label", "bolt11",
    ]  # fmt: skip
    assert done["status"] == "complete"
    assert done["updated_index"] == 1
    assert done["payment_preimage"] == invoice.preimage
    assert sha256_hex(done["payment_preimage"]) == invoice.payment_hash

    assert regtest.rpc.waitsendpay(invoice.payment_hash) == done  # again, no timeout: answered at once
    listed = regtest.rpc.listsendpays(payment_hash=invoice.payment_hash)
    assert_valid_response("listsendpays", listed)
    assert listed == {"payments": [done]}

    # The invoice is paid, and the amounts moved along A-B-C (fees stay with B); nothing is left in flight.
    assert invoice.status == "paid" and invoice.amount_received_msat == 50_000_000
    assert half_of(regtest, "103x1x0", "A").balance_msat == ab_before - 50_000_501
    assert half_of(regtest, "103x2x0", "B").balance_msat == bc_before - 50_000_000
    assert half_of(regtest, "103x2x0", "C").balance_msat == cb_before + 50_000_000
    assert inflight(regtest) == {}


def test_resend_after_success(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 50_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 50_000_000)
    regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret, amount_msat=50_000_000)
    done = regtest.rpc.waitsendpay(invoice.payment_hash, timeout=10)
    balance = half_of(regtest, "103x1x0", "A").balance_msat

    again = regtest.rpc.sendpay(
        route, invoice.payment_hash, payment_secret=invoice.payment_secret, amount_msat=50_000_000
    )
    assert_valid_response("sendpay", again)
    assert again == done  # complete at once, no "message", nothing sent
    assert half_of(regtest, "103x1x0", "A").balance_msat == balance

    other = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 60_000_000)
    error = rpc_error(
        regtest.rpc.sendpay,
        other,
        invoice.payment_hash,
        payment_secret=invoice.payment_secret,
        amount_msat=60_000_000,
    )
    assert error == {"code": 201, "message": "Already succeeded with amount 50000000msat (not 60000000msat)"}
    assert regtest.rpc.listsendpays()["payments"] == [done]


def test_amount_formats_and_v2606_route_names(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["D", "C"], ["103x3x0", "103x4x0"], 10_000_000)
    # v26.06 names on the first hop (with an unknown member), old names with string amounts on the second.
    first, last = route
    v2606 = {
        "node_id_out": first["id"],
        "short_channel_id_dir": f"{first['channel']}/{first['direction']}",
        "amount_out_msat": f"{first['amount_msat']}msat",
        "cltv_out": first["delay"],
        "something_new": [1, 2],
    }
    last = last | {"amount_msat": "10000sat", "delay": str(last["delay"])}
    sent = regtest.rpc.sendpay(
        [v2606, last], invoice.payment_hash, amount_msat="0.0001btc", payment_secret=invoice.payment_secret
    )
    assert sent["amount_msat"] == 10_000_000 and sent["amount_sent_msat"] == first["amount_msat"]
    assert regtest.rpc.waitsendpay(invoice.payment_hash, timeout=10)["status"] == "complete"

    for text in ("10000000", "10000000msat", "10000sat", "10000.000sat", "0.0001btc"):
        other = make_invoice(regtest, "C", 10_000_000)
        route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
        sent = regtest.rpc.call(
            "sendpay",
            {"route": route, "payment_hash": other.payment_hash, "amount_msat": text,
             "payment_secret": other.payment_secret},
        )  # fmt: skip
        assert sent["amount_msat"] == 10_000_000, text


def test_self_payment(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "A", 5_000)
    done = regtest.rpc.sendpay([], invoice.payment_hash, amount_msat=5_000, payment_secret=invoice.payment_secret)
    assert_valid_response("sendpay", done)
    assert done == {
        "created_index": 1,
        "id": 1,
        "payment_hash": invoice.payment_hash,
        "groupid": 1,
        "destination": regtest.node.our_id,
        "amount_msat": 5_000,
        "amount_sent_msat": 5_000,
        "created_at": done["created_at"],
        "status": "complete",
        "payment_preimage": invoice.preimage,
    }
    assert invoice.status == "paid"
    unknown = "12" * 32
    error = rpc_error(regtest.rpc.sendpay, [], unknown, amount_msat=5_000)
    assert error["code"] == 203
    assert error["message"] == f"Unknown invoice {unknown}"
    assert error["data"]["status"] == "pending"
    assert {key: error["data"][key] for key in ("erring_index", "failcode", "failcodename", "erring_node")} == {
        "erring_index": 0,
        "failcode": 16399,
        "failcodename": "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS",
        "erring_node": regtest.node.our_id,
    }
    assert "erring_channel" not in error["data"]


# --------------------------------------------------------------------------------------------------------
# Parameter errors


def test_parameter_errors(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 20_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 20_000_000)
    call = regtest.rpc.call

    def error(params: dict[str, Any]) -> dict[str, Any]:
        return rpc_error(call, "sendpay", params)

    assert error({"route": route, "payment_hash": "zz"}) == {
        "code": -32602,
        "message": "payment_hash: should be a 32 byte hex value: invalid token '\"zz\"'",
    }
    assert error({"route": [], "payment_hash": "12" * 32}) == {
        "code": -32602,
        "message": "Self-payment requires amount_msat",
    }
    assert error({"route": [], "payment_hash": "12" * 32, "amount_msat": 1, "partid": 1}) == {
        "code": -32602,
        "message": "Self-payment does not allow (non-zero) partid",
    }
    assert error({"route": route, "payment_hash": "13" * 32, "partid": 1}) == {
        "code": -32602,
        "message": "Must specify msatoshi with partid",
    }
    assert error({"route": route, "payment_hash": invoice.payment_hash, "partid": 1, "amount_msat": 20_000_000}) == {
        "code": -32602,
        "message": "partid requires payment_secret",
    }
    assert error({"route": route, "payment_hash": invoice.payment_hash, "amount_msat": 40_000_000}) == {
        "code": -32602,
        "message": "Do not specify msatoshi (40000000msat) without partid: if you do, it must be exactly the "
        "final amount (20000000msat)",
    }
    assert error(
        {
            "route": route,
            "payment_hash": invoice.payment_hash,
            "amount_msat": 10_000_000,
            "partid": 2,
            "payment_secret": invoice.payment_secret,
        }
    ) == {
        "code": -32602,
        "message": "Final amount 20000000msat is greater than 10000000msat, despite MPP",
    }
    assert error({"route": {"id": 1}, "payment_hash": "13" * 32}) == {
        "code": -32602,
        "message": "route: must be an array: invalid token '{\"id\":1}'",
    }
    hop = {"id": route[0]["id"], "amount_msat": 1, "delay": 9}
    assert error({"route": [hop], "payment_hash": "13" * 32})["message"].startswith(
        "route: must have either short_channel_id_dir or channel: invalid token '{"
    )
    assert error({"route": [hop | {"channel": "1x1"}], "payment_hash": "13" * 32}) == {
        "code": -32602,
        "message": "route: bad short_channel_id: invalid token '\"1x1\"'",
    }
    assert error({"route": [hop | {"channel": "1x1x1", "id": "05" * 33}], "payment_hash": "13" * 32}) == {
        "code": -32602,
        "message": f"route: bad node_id: invalid token '\"{'05' * 33}\"'",
    }
    no_id = {"channel": "1x1x1", "amount_msat": 1, "delay": 9}
    assert error({"route": [no_id], "payment_hash": "13" * 32})["message"].startswith(
        "route: must have either node_id_out or id: invalid token '{"
    )
    assert error({"route": [hop | {"channel": "1x1x1", "amount_msat": "lots"}], "payment_hash": "13" * 32}) == {
        "code": -32602,
        "message": "route: bad amount: invalid token '\"lots\"'",
    }
    assert error({"route": [hop | {"channel": "1x1x1", "delay": -1}], "payment_hash": "13" * 32}) == {
        "code": -32602,
        "message": "route: bad cltv_out/delay: invalid token '-1'",
    }
    assert error({"route": route, "payment_hash": "13" * 32, "amount_msat": "ten"}) == {
        "code": -32602,
        "message": "amount_msat: should be a millisatoshi amount: invalid token '\"ten\"'",
    }
    assert error({"route": route, "payment_hash": "13" * 32, "label": 5}) == {
        "code": -32602,
        "message": "label: should be a string (without \\u): invalid token '5'",
    }
    # Nothing was recorded by refused calls.
    assert regtest.rpc.listsendpays() == {"payments": []}


# --------------------------------------------------------------------------------------------------------
# Failures before anything is sent


def test_first_channel_unknown_or_wrong_first_hop(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 20_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 20_000_000)
    expected = {
        "code": 204,
        "message": "No connection to first peer found",
        "data": {
            "erring_index": 0,
            "failcode": 16394,
            "failcodename": "WIRE_UNKNOWN_NEXT_PEER",
            "erring_node": regtest.node.our_id,
        },
    }
    unknown_channel = [route[0] | {"channel": "1x1x1"}]
    assert rpc_error(regtest.rpc.sendpay, unknown_channel, "11" * 32) == expected
    wrong_first_id = [route[0] | {"id": regtest.alias("E")}, route[1]]  # E is no peer of ours
    assert (
        rpc_error(regtest.rpc.sendpay, wrong_first_id, invoice.payment_hash, payment_secret=invoice.payment_secret)
        == expected
    )
    other_peers_channel = [route[0] | {"channel": "103x3x0"}, route[1]]  # A-D's channel, but the id says B
    assert rpc_error(regtest.rpc.sendpay, other_peers_channel, invoice.payment_hash) == expected
    assert rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30) == {
        "code": 208,
        "message": f"Never attempted payment part 0 for '{invoice.payment_hash}'",
    }


def test_first_peer_offline_fails_at_once(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 20_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 20_000_000)
    b = regtest.node.network.nodes[regtest.alias("B")]
    regtest.on_loop(lambda: setattr(b, "online", False))
    error = rpc_error(regtest.rpc.sendpay, route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert error == {
        "code": 204,
        "message": "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (First peer not ready)",
        "data": {
            "erring_index": 0,
            "failcode": 4103,
            "failcodename": "WIRE_TEMPORARY_CHANNEL_FAILURE",
            "erring_node": regtest.node.our_id,
            "erring_channel": "103x1x0",
            "erring_direction": direction(regtest, "A", "B"),
        },
    }
    assert regtest.rpc.listsendpays() == {"payments": []}


def test_first_hop_without_liquidity_fails_locally(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 20_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 20_000_000)
    ours = half_of(regtest, "103x1x0", "A")
    regtest.on_loop(lambda: setattr(ours, "balance_msat", 1_000_000))
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert sent["status"] == "pending"  # channeld refuses the HTLC after sendpay returned
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=10)
    assert error["code"] == 204
    assert error["message"] == (
        "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (WIRE_TEMPORARY_CHANNEL_FAILURE: Capacity exceeded - HTLC fee: 4866sat)"
    )
    failure = failure_fields(error, sent)
    assert failure == {
        "erring_index": 0,
        "failcode": 4103,
        "failcodename": "WIRE_TEMPORARY_CHANNEL_FAILURE",
        "erring_node": regtest.node.our_id,
        "erring_channel": "103x1x0",
        "erring_direction": direction(regtest, "A", "B"),
    }  # a local failure: no raw_message
    assert ours.balance_msat == 1_000_000 and inflight(regtest) == {}


# --------------------------------------------------------------------------------------------------------
# Failures at the destination (203)


def check_destination_failure(sim: RunningSim, error: dict[str, Any], sent: dict[str, Any], htlc_msat: int) -> None:
    """A 203 from C for a payment over A-B-C, as the transcripts' wrong-hash and no-secret cases."""
    assert error["code"] == 203
    assert error["message"] == "failed: WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS (reply from remote)"
    assert failure_fields(error, sent) == {
        "erring_index": 2,
        "failcode": 16399,
        "failcodename": "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS",
        "erring_node": sim.alias("C"),
        "erring_channel": "103x2x0",
        "erring_direction": direction(sim, "B", "C"),
        "raw_message": "400f" + htlc_msat.to_bytes(8, "big").hex() + "0000006c",  # htlc_msat, blockheight 108
    }


def test_wrong_hash_is_permanent_and_failed_afterwards(start_sim: Any) -> None:
    regtest = start_sim("regtest", hop_delay_ms=250)  # slow enough for waitsendpay to be waiting already
    invoice = make_invoice(regtest, "C", 20_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 20_000_000)
    unknown = "0f4fed98b2a2e5d387471b2c9bfcaa415263aed379d8ed9e8c099abe819274ac"
    sent = regtest.rpc.sendpay(route, unknown, payment_secret=invoice.payment_secret)
    assert_valid_response("sendpay", sent)
    error = rpc_error(regtest.rpc.waitsendpay, unknown, timeout=30)
    check_destination_failure(regtest, error, sent, 20_000_000)
    # The first report carries the part as it was before the failure was recorded: exactly sendpay's fields.
    assert error["data"]["status"] == "pending"
    assert list(error["data"]) == [key for key in sent if key != "message"] + list(ROUTING_KEYS)

    listed = regtest.rpc.listsendpays(payment_hash=unknown)
    assert_valid_response("listsendpays", listed)
    [failed] = listed["payments"]
    assert failed["status"] == "failed" and failed["updated_index"] == 1 and "completed_at" in failed
    assert list(failed) == [
        "created_index", "id", "payment_hash", "groupid", "updated_index", "destination", "amount_msat",
        "amount_sent_msat", "created_at", "completed_at", "status",
    ]  # fmt: skip
    again = rpc_error(regtest.rpc.waitsendpay, unknown)
    assert again["code"] == 203 and again["message"] == error["message"]
    assert again["data"] == failed | {key: error["data"][key] for key in error["data"] if key not in sent}
    assert inflight(regtest) == {}


def test_no_payment_secret_is_refused_by_the_payee(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sent = regtest.rpc.sendpay(route, invoice.payment_hash)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    check_destination_failure(regtest, error, sent, 10_000_000)
    assert invoice.status == "unpaid"


def test_wrong_payment_secret_and_underpayment(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret="ab" * 32)
    check_destination_failure(regtest, rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash), sent, 10_000_000)
    small = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 9_999_999)
    sent = regtest.rpc.sendpay(small, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert sent["groupid"] == 2  # last group + 1
    check_destination_failure(regtest, rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash), sent, 9_999_999)
    triple = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 30_000_000)
    sent = regtest.rpc.sendpay(triple, invoice.payment_hash, payment_secret=invoice.payment_secret)
    check_destination_failure(regtest, rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash), sent, 30_000_000)


def test_expired_invoice(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000, expiry=0)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sent = regtest.rpc.sendpay(
        route, invoice.payment_hash, payment_secret=invoice.payment_secret, bolt11=invoice.bolt11
    )
    assert sent["bolt11"] == invoice.bolt11
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    check_destination_failure(regtest, error, sent, 10_000_000)


def test_final_cltv_counts_from_the_next_block(regtest: RunningSim) -> None:
    # delay 9 against min_final 10 succeeds: sendpay adds blockheight + 1 (the transcript's getroute default).
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000, final_cltv=9)
    assert [hop["delay"] for hop in route] == [15, 9]
    regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert regtest.rpc.waitsendpay(invoice.payment_hash, timeout=10)["status"] == "complete"
    # One block less is too soon for the payee.
    late = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000, final_cltv=8)
    sent = regtest.rpc.sendpay(route, late.payment_hash, payment_secret=late.payment_secret)
    check_destination_failure(regtest, rpc_error(regtest.rpc.waitsendpay, late.payment_hash), sent, 10_000_000)


# --------------------------------------------------------------------------------------------------------
# Failures along the route (204)


def check_channel_update(sim: RunningSim, update: bytes, scid: str, source: str, destination: str) -> bytes:
    """A signed BOLT 7 channel_update of ``scid`` in the direction ``source`` -> ``destination``; its body."""
    assert len(update) == 138 and update[:2] == b"\x01\x02"
    signature, body = update[2:66], update[66:]
    digest = hashlib.sha256(hashlib.sha256(body).digest()).digest()
    from coincurve.ecdsa import cdata_to_der, deserialize_compact

    der = cdata_to_der(deserialize_compact(signature))
    assert PublicKey(bytes.fromhex(sim.alias(source))).verify(der, digest, hasher=None)
    block, tx, out = (int(part) for part in scid.split("x"))
    assert body[:32].hex() == REGTEST_CHAIN_HASH
    assert body[32:40] == ((block << 40) | (tx << 16) | out).to_bytes(8, "big")
    assert body[45] & 1 == direction(sim, source, destination)
    return body


def test_mid_route_liquidity_failure(regtest: RunningSim) -> None:
    # sendpay_failures.json: D-C can't carry it; D answers temporary_channel_failure (erring_index 1).
    invoice = make_invoice(regtest, "C", 250_705_000)
    dc = half_of(regtest, "103x4x0", "D")
    regtest.on_loop(lambda: setattr(dc, "balance_msat", 245_705_000))
    route = build_route(regtest, ["D", "C"], ["103x3x0", "103x4x0"], 250_705_000)
    ad_before = half_of(regtest, "103x3x0", "A").balance_msat
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    assert error["code"] == 204
    assert error["message"] == "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (reply from remote)"
    failure = failure_fields(error, sent)
    raw = bytes.fromhex(failure.pop("raw_message"))
    assert failure == {
        "erring_index": 1,
        "failcode": 4103,
        "failcodename": "WIRE_TEMPORARY_CHANNEL_FAILURE",
        "erring_node": regtest.alias("D"),
        "erring_channel": "103x4x0",
        "erring_direction": direction(regtest, "D", "C"),
    }
    # As channeld reports it: a zero length, then lightningd appends the update anyway (142 bytes in all).
    assert raw[:4] == bytes.fromhex("10070000") and len(raw) == 142
    check_channel_update(regtest, raw[4:], "103x4x0", "D", "C")
    assert half_of(regtest, "103x3x0", "A").balance_msat == ad_before and inflight(regtest) == {}


def test_fee_insufficient_after_policy_change(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    bc = half_of(regtest, "103x2x0", "B")

    def raise_fee() -> None:
        bc.base_fee_msat = 1_000
        regtest.node.network.touch()

    regtest.on_loop(raise_fee)
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    assert error["code"] == 204
    assert error["message"] == "failed: WIRE_FEE_INSUFFICIENT (reply from remote)"
    failure = failure_fields(error, sent)
    raw = bytes.fromhex(failure.pop("raw_message"))
    assert failure == {
        "erring_index": 1,
        "failcode": 4108,
        "failcodename": "WIRE_FEE_INSUFFICIENT",
        "erring_node": regtest.alias("B"),
        "erring_channel": "103x2x0",
        "erring_direction": direction(regtest, "B", "C"),
    }
    # fee_insufficient: htlc_msat (what B was offered), then the length-prefixed update with the new fee.
    assert raw[:2] == bytes.fromhex("100c")
    assert int.from_bytes(raw[2:10], "big") == 10_000_101
    assert raw[10:12] == bytes.fromhex("008a") and len(raw) == 150
    body = check_channel_update(regtest, raw[12:], "103x2x0", "B", "C")
    assert int.from_bytes(body[56:60], "big") == 1_000  # fee_base_msat
    # Rebuilt with the new policy, the payment goes through.
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    assert route[0]["amount_msat"] == 10_001_100
    regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert regtest.rpc.waitsendpay(invoice.payment_hash, timeout=10)["status"] == "complete"


def test_incorrect_cltv_expiry(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    route[0]["delay"] = route[1]["delay"]  # B's cltv_expiry_delta not honoured
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    assert error["code"] == 204
    assert error["message"] == "failed: WIRE_INCORRECT_CLTV_EXPIRY (reply from remote)"
    failure = failure_fields(error, sent)
    raw = bytes.fromhex(failure.pop("raw_message"))
    assert failure["erring_index"] == 1 and failure["erring_node"] == regtest.alias("B")
    assert failure["failcode"] == 4109 and failure["erring_channel"] == "103x2x0"
    assert raw[:8] == bytes.fromhex("100d00000077008a")  # cltv_expiry 119 = 108 + 1 + 10, as the transcript
    check_channel_update(regtest, raw[8:], "103x2x0", "B", "C")


def test_unknown_next_peer(regtest: RunningSim) -> None:
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x99x0"], 10_000_000)
    route[0]["amount_msat"] = 10_000_101
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    assert error == {
        "code": 204,
        "message": "failed: WIRE_UNKNOWN_NEXT_PEER (reply from remote)",
        "data": {key: value for key, value in sent.items() if key != "message"}
        | {
            "erring_index": 1,
            "failcode": 16394,
            "failcodename": "WIRE_UNKNOWN_NEXT_PEER",
            "erring_node": regtest.alias("B"),
            "erring_channel": "103x99x0",
            "erring_direction": direction(regtest, "B", "C"),
            "raw_message": "400a",
        },
    }


def test_htlc_maximum_and_offline_next_node(regtest: RunningSim) -> None:
    # B-C allows 396M per HTLC; more fails at B with a length-prefixed update (forward_htlc's own check).
    big = make_invoice(regtest, "C", 397_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 397_000_000)
    sent = regtest.rpc.sendpay(route, big.payment_hash, payment_secret=big.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, big.payment_hash, timeout=30)
    assert error["message"] == "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (reply from remote)"
    assert error["data"]["raw_message"].startswith("1007008a0102")
    assert failure_fields(error, sent)["erring_index"] == 1
    # E offline: B cannot hand the HTLC on over B-E (erring_index 1, channel B-E); the update says disabled.
    e = regtest.node.network.nodes[regtest.alias("E")]
    regtest.on_loop(lambda: setattr(e, "online", False))
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "E", "C"], ["103x1x0", "103x5x0", "103x6x0"], 10_000_000)
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    failure = failure_fields(error, sent)
    raw = bytes.fromhex(failure.pop("raw_message"))
    assert failure == {
        "erring_index": 1,
        "failcode": 4103,
        "failcodename": "WIRE_TEMPORARY_CHANNEL_FAILURE",
        "erring_node": regtest.alias("B"),
        "erring_channel": "103x5x0",
        "erring_direction": direction(regtest, "B", "E"),
    }
    body = check_channel_update(regtest, raw[4:], "103x5x0", "B", "E")
    assert body[45] & 2  # disabled
    assert inflight(regtest) == {}


def test_flaky_node_fails_sometimes(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=0, seed=7)
    b = sim.node.network.nodes[sim.alias("B")]
    sim.on_loop(lambda: setattr(b, "flaky_ppm", 1_000_000))  # always
    invoice = make_invoice(sim, "C", 1_000_000)
    route = build_route(sim, ["B", "C"], ["103x1x0", "103x2x0"], 1_000_000)
    sim.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, timeout=10)
    assert error["data"]["failcodename"] == "WIRE_TEMPORARY_CHANNEL_FAILURE"
    assert error["data"]["erring_node"] == sim.alias("B") and error["data"]["raw_message"].startswith("10070000")


def test_route_naming_a_node_the_channel_does_not_reach(regtest: RunningSim) -> None:
    # The onion's second layer is for E but 103x2x0 leads to C: C can't read it, B reports invalid_onion_hmac.
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    route[1]["id"] = regtest.alias("E")
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert sent["destination"] == regtest.alias("E")
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash, timeout=30)
    assert error["code"] == 204 and error["message"] == "failed: WIRE_INVALID_ONION_HMAC (reply from remote)"
    failure = failure_fields(error, sent)
    assert failure["erring_index"] == 1 and failure["erring_node"] == regtest.alias("E")  # BADONION: the next
    assert failure["failcode"] == 0xC005 and len(bytes.fromhex(failure["raw_message"])) == 34
    again = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash)
    assert again["code"] == 202 and again["message"] == "Malformed error reply"  # wait_payment's BADONION rule


# --------------------------------------------------------------------------------------------------------
# waitsendpay


def test_waitsendpay_unknown_and_timeouts(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=100)
    assert rpc_error(sim.rpc.waitsendpay, "00" * 32) == {
        "code": 208,
        "message": f"Never attempted payment part 0 for '{'00' * 32}'",
    }
    invoice = make_invoice(sim, "C", 10_000_000)
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=7) == {
        "code": 208,
        "message": f"Never attempted payment part 7 for '{invoice.payment_hash}'",
    }
    route = build_route(sim, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sim.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    timed_out = {"code": 200, "message": "Timed out while waiting"}
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, timeout=0) == timed_out
    assert rpc_error(sim.rpc.call, "waitsendpay", {"payment_hash": invoice.payment_hash, "timeout": "x"}) == {
        "code": -32602,
        "message": "timeout: should be an integer: invalid token '\"x\"'",
    }
    assert sim.rpc.waitsendpay(invoice.payment_hash)["status"] == "complete"  # no timeout: waits


def test_many_concurrent_waitsendpays(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=250)
    invoice = make_invoice(sim, "C", 10_000_000)
    route = build_route(sim, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sim.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    results: list[Any] = []

    def wait() -> None:
        results.append(sim.rpc.waitsendpay(invoice.payment_hash, timeout=10))

    threads = [threading.Thread(target=wait) for _ in range(20)]
    for thread in threads:
        thread.start()
    assert sim.rpc.listsendpays(status="pending")["payments"]  # others are served meanwhile
    for thread in threads:
        thread.join(timeout=15)
    assert len(results) == 20 and all(result["status"] == "complete" for result in results)
    assert not sim.node.component(PaymentBook)._waiters


def test_a_simulator_bug_while_forwarding_fails_the_part_instead_of_hanging(
    regtest: RunningSim, caplog: pytest.LogCaptureFixture
) -> None:
    """waitsendpay without a timeout must still return: the part fails locally and the bug is logged."""
    book = regtest.node.component(PaymentBook)

    def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    regtest.on_loop(lambda: setattr(book, "_forward", broken))
    invoice = make_invoice(regtest, "C", 10_000_000)
    route = build_route(regtest, ["B", "C"], ["103x1x0", "103x2x0"], 10_000_000)
    sent = regtest.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    error = rpc_error(regtest.rpc.waitsendpay, invoice.payment_hash)
    assert (error["code"], error["message"]) == (
        204,
        "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (WIRE_TEMPORARY_CHANNEL_FAILURE: Internal error in the simulator)",
    )
    assert failure_fields(error, sent)["erring_index"] == 0
    assert "failed inside the simulator" in caplog.text
    assert regtest.rpc.listpeerchannels(short_channel_id="103x1x0")["channels"][0]["htlcs"] == []
    assert inflight(regtest) == {}  # the reservations it held are released
