"""Multi-part payments: the payee holds parts until the total, mpp_timeout, and check_progress's rules.

The scenarios follow ``shared/cln/transcripts/sendpay_mpp*.json`` on the same five-node network.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tests.schema import assert_valid_response
from tests.sim.helpers import (
    ABC,
    ABEC,
    ADC,
    PENDING_MESSAGE,
    build_route,
    direction,
    failure_fields,
    half_of,
    inflight,
    make_invoice,
    rpc_error,
    send_part,
)

TIMED_OUT = {"code": 200, "message": "Timed out while waiting"}


def test_mpp_settles_over_three_paths(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=1, mpp_timeout_s=30)
    invoice = make_invoice(sim, "C", 450_000_000, description="three part payment")
    c_before = {scid: half_of(sim, scid, "C").balance_msat for scid in ("103x2x0", "103x4x0", "103x6x0")}

    first = send_part(sim, invoice, *ABC, 200_000_000, 1, 77, 450_000_000, bolt11=invoice.bolt11)
    assert_valid_response("sendpay", first)
    assert first == {
        "message": PENDING_MESSAGE,
        "created_index": 1,
        "id": 1,
        "payment_hash": invoice.payment_hash,
        "groupid": 77,
        "partid": 1,
        "destination": sim.alias("C"),
        "amount_msat": 200_000_000,
        "amount_sent_msat": 200_002_001,
        "created_at": first["created_at"],
        "status": "pending",
        "bolt11": invoice.bolt11,
    }
    assert list(first)[4:6] == ["groupid", "partid"]
    # The payee holds part 1 until the rest arrives.
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=1, groupid=77, timeout=0) == TIMED_OUT
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=1, timeout=1) == TIMED_OUT
    listed = sim.rpc.listsendpays(status="pending")
    assert_valid_response("listsendpays", listed)
    assert listed == {"payments": [{key: value for key, value in first.items() if key != "message"}]}
    pays = sim.rpc.listpays(payment_hash=invoice.payment_hash)
    assert_valid_response("listpays", pays)
    assert pays == {
        "pays": [
            {
                "bolt11": invoice.bolt11,
                "destination": sim.alias("C"),
                "payment_hash": invoice.payment_hash,
                "status": "pending",
                "created_at": first["created_at"],
                "amount_msat": 200_000_000,
                "amount_sent_msat": 200_002_001,
                "created_index": 1,
            }
        ]
    }
    assert invoice.status == "unpaid"

    second = send_part(sim, invoice, *ADC, 150_000_000, 2, 77, 450_000_000, bolt11=invoice.bolt11)
    third = send_part(sim, invoice, *ABEC, 100_000_000, 3, 77, 450_000_000, bolt11=invoice.bolt11)
    assert (second["amount_sent_msat"], third["amount_sent_msat"]) == (150_001_501, 100_002_002)
    done = [sim.rpc.waitsendpay(invoice.payment_hash, partid=p, groupid=77, timeout=10) for p in (1, 2, 3)]
    for part in done:
        assert_valid_response("waitsendpay", part)
        assert part["status"] == "complete" and part["payment_preimage"] == invoice.preimage
    assert hashlib.sha256(bytes.fromhex(invoice.preimage)).hexdigest() == invoice.payment_hash
    assert sorted(part["updated_index"] for part in done) == [1, 2, 3]
    # MPP parts have no partid 0: waitsendpay without partid never finds one.
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, timeout=5) == {
        "code": 208,
        "message": f"Never attempted payment part 0 for '{invoice.payment_hash}'",
    }
    assert sim.rpc.listsendpays(payment_hash=invoice.payment_hash)["payments"] == done
    pays = sim.rpc.listpays(payment_hash=invoice.payment_hash)
    assert_valid_response("listpays", pays)
    assert pays["pays"] == [
        {
            "bolt11": invoice.bolt11,
            "destination": sim.alias("C"),
            "payment_hash": invoice.payment_hash,
            "status": "complete",
            "created_at": first["created_at"],
            "completed_at": min(part["completed_at"] for part in done),
            "preimage": invoice.preimage,
            "amount_msat": 450_000_000,
            "amount_sent_msat": 450_005_504,
            "number_of_parts": 3,
            "created_index": 1,
            "updated_index": 3,
        }
    ]
    assert invoice.status == "paid" and invoice.amount_received_msat == 450_000_000
    assert half_of(sim, "103x2x0", "C").balance_msat == c_before["103x2x0"] + 200_000_000
    assert half_of(sim, "103x4x0", "C").balance_msat == c_before["103x4x0"] + 150_000_000
    assert half_of(sim, "103x6x0", "C").balance_msat == c_before["103x6x0"] + 100_000_000
    assert inflight(sim) == {}

    # After success: the same part returns complete at once; any new part is refused.
    again = send_part(sim, invoice, *ABC, 200_000_000, 1, 77, 450_000_000)
    assert again == done[0]
    assert rpc_error(send_part, sim, invoice, *ABC, 200_000_000, 4, 77, 450_001_000) == {
        "code": 201,
        "message": "Already succeeded other parts",
    }
    assert rpc_error(send_part, sim, invoice, *ABC, 200_000_000, 4, 77, 450_000_000) == {
        "code": 201,
        "message": "Already succeeded other parts",
    }
    assert rpc_error(send_part, sim, invoice, *ABC, 100_000_000, 1, 77, 450_000_000) == {
        "code": 201,
        "message": "Already succeeded with amount 200000000msat (not 100000000msat)",
    }


def test_mpp_timeout_fails_held_parts(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=1, mpp_timeout_s=1.0)
    invoice = make_invoice(sim, "C", 100_000_000, description="half paid")
    first = send_part(sim, invoice, *ABC, 50_000_000, 1, 1, 100_000_000)
    assert rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=1, timeout=0) == TIMED_OUT
    # The same part again while pending: answered as just sent.
    assert send_part(sim, invoice, *ABC, 50_000_000, 1, 1, 100_000_000) == first
    assert rpc_error(send_part, sim, invoice, *ABC, 50_000_000, 2, 1, 100_000_005) == {
        "code": -32602,
        "message": "msatoshi was previously 100000000msat, now 100000005msat",
    }
    assert half_of(sim, "103x1x0", "A").inflight_msat == 50_000_501

    error = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=1, timeout=10)
    assert error["code"] == 204  # not 203: mpp_timeout has no PERM bit
    assert error["message"] == "failed: WIRE_MPP_TIMEOUT (reply from remote)"
    assert failure_fields(error, first) == {
        "erring_index": 2,
        "failcode": 23,
        "failcodename": "WIRE_MPP_TIMEOUT",
        "erring_node": sim.alias("C"),
        "erring_channel": "103x2x0",
        "erring_direction": direction(sim, "B", "C"),
        "raw_message": "0017",
    }
    [failed] = sim.rpc.listsendpays(payment_hash=invoice.payment_hash)["payments"]
    assert failed["status"] == "failed" and failed["updated_index"] == 1
    assert inflight(sim) == {} and invoice.status == "unpaid"
    # A new group can pay it in full.
    retry = send_part(sim, invoice, *ABC, 100_000_000, 1, 2, 100_000_000)
    assert retry["groupid"] == 2
    assert sim.rpc.waitsendpay(invoice.payment_hash, partid=1, groupid=2, timeout=10)["status"] == "complete"


def test_mpp_part_fails_mid_route_then_retried_with_new_partid(start_sim: Any) -> None:
    # sendpay_mpp_retry.json: part 2 fails at E (too little on E-C); partid 2 again: refused; partid 3 works.
    sim = start_sim("regtest", hop_delay_ms=1, mpp_timeout_s=30)
    ec = half_of(sim, "103x6x0", "E")
    sim.on_loop(lambda: setattr(ec, "balance_msat", 86_705_000))
    invoice = make_invoice(sim, "C", 129_057_500, description="retry a part")
    first = send_part(sim, invoice, *ABC, 37_352_500, 1, 5, 129_057_500)
    second = send_part(sim, invoice, *ABEC, 91_705_000, 2, 5, 129_057_500)
    assert second["amount_sent_msat"] == 91_706_836

    error = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=2, timeout=30)
    assert error["code"] == 204
    assert error["message"] == "failed: WIRE_TEMPORARY_CHANNEL_FAILURE (reply from remote)"
    failure = failure_fields(error, second)
    assert failure["raw_message"].startswith("100700000102")
    assert {key: failure[key] for key in failure if key != "raw_message"} == {
        "erring_index": 2,
        "failcode": 4103,
        "failcodename": "WIRE_TEMPORARY_CHANNEL_FAILURE",
        "erring_node": sim.alias("E"),
        "erring_channel": "103x6x0",
        "erring_direction": direction(sim, "E", "C"),
    }
    again = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=2, timeout=30)
    assert again["data"]["status"] == "failed" and again["data"]["updated_index"] == 1
    assert list(again["data"])[:6] == [
        "created_index",
        "id",
        "payment_hash",
        "groupid",
        "updated_index",
        "partid",
    ]

    listed = sim.rpc.listsendpays(payment_hash=invoice.payment_hash)["payments"]
    assert [(part["partid"], part["status"]) for part in listed] == [(1, "pending"), (2, "failed")]
    pays = sim.rpc.listpays(payment_hash=invoice.payment_hash)
    assert_valid_response("listpays", pays)
    assert pays["pays"] == [
        {
            "destination": sim.alias("C"),
            "payment_hash": invoice.payment_hash,
            "status": "pending",
            "created_at": first["created_at"],
            "amount_msat": 37_352_500,
            "amount_sent_msat": 37_352_874,
            "created_index": 1,
            "updated_index": 1,
        }
    ]

    assert rpc_error(send_part, sim, invoice, *ADC, 91_705_000, 2, 5, 129_057_500) == {
        "code": 201,
        "message": f"There already is a payment with payment_hash={invoice.payment_hash}, groupid=5, "
        "partid=2. Either change the partid, or wait for the payment to complete and start a new group.",
    }
    third = send_part(sim, invoice, *ADC, 91_705_000, 3, 5, 129_057_500)
    assert third["created_index"] == 3
    for partid in (1, 3):
        assert sim.rpc.waitsendpay(invoice.payment_hash, partid=partid, timeout=10)["status"] == "complete"
    pays = sim.rpc.listpays(payment_hash=invoice.payment_hash)["pays"]
    assert pays[0]["status"] == "complete" and pays[0]["number_of_parts"] == 2
    assert pays[0]["amount_msat"] == 129_057_500 and pays[0]["amount_sent_msat"] == 129_058_792
    assert invoice.amount_received_msat == 129_057_500 and inflight(sim) == {}


def test_one_group_in_flight_and_parts_beyond_the_total(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=1, mpp_timeout_s=30)
    invoice = make_invoice(sim, "C", 100_000_000)
    send_part(sim, invoice, *ABC, 60_000_000, 1, 1, 100_000_000)
    # Without groupid a second part gets "last group + 1" and is refused while group 1 is in flight.
    assert rpc_error(send_part, sim, invoice, *ADC, 40_000_000, 2, None, 100_000_000) == {
        "code": 200,
        "message": "Payment with groupid=1 still in progress, cannot retry before that completes.",
    }
    # A non-parallel part (partid 0) does not mix with parallel ones.
    route = build_route(sim, *ADC, 100_000_000)
    assert rpc_error(
        sim.rpc.call,
        "sendpay",
        {"route": route, "payment_hash": invoice.payment_hash, "payment_secret": invoice.payment_secret,
         "groupid": 1},
    ) == {"code": 200, "message": "Already have parallel payment in progress"}  # fmt: skip
    send_part(sim, invoice, *ADC, 40_000_000, 2, 1, 100_000_000)
    assert sim.rpc.waitsendpay(invoice.payment_hash, partid=2, groupid=1, timeout=10)["status"] == "complete"


def test_new_part_refused_when_pending_parts_reach_the_total(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=250, mpp_timeout_s=30)  # parts stay in flight for a while
    invoice = make_invoice(sim, "C", 100_000_000)
    send_part(sim, invoice, *ABC, 60_000_000, 1, 1, 100_000_000)
    send_part(sim, invoice, *ADC, 40_000_000, 2, 1, 100_000_000)
    assert rpc_error(send_part, sim, invoice, *ABC, 10_000_000, 3, 1, 100_000_000) == {
        "code": 200,
        "message": "Already have 100000000msat of 100000000msat payments in progress",
    }
    # A pending part resent with another amount is refused too.
    assert rpc_error(send_part, sim, invoice, *ABC, 50_000_000, 1, 1, 100_000_000) == {
        "code": 201,
        "message": "Already pending with amount 60000000msat (not 50000000msat)",
    }
    for partid in (1, 2):
        assert sim.rpc.waitsendpay(invoice.payment_hash, partid=partid, timeout=10)["status"] == "complete"


def test_non_parallel_payment_in_flight_refuses_parts(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=250)
    invoice = make_invoice(sim, "C", 100_000_000)
    route = build_route(sim, *ABC, 100_000_000)
    sim.rpc.sendpay(route, invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert rpc_error(send_part, sim, invoice, *ADC, 40_000_000, 1, 1, 100_000_000) == {
        "code": 200,
        "message": "Already have non-parallel payment in progress",
    }
    assert sim.rpc.waitsendpay(invoice.payment_hash, timeout=10)["status"] == "complete"
