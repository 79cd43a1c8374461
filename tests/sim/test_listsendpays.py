"""listsendpays (filters, created/updated paging), delpay and listpays, as ``listsendpays.json`` and
``sendpay_misc.json`` show them.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyln.client import RpcError

from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import ABC, ADC, build_route, make_invoice, rpc_error


def pay(sim: RunningSim, payment_hash: str, amount_msat: int, secret: str | None, **extra: Any) -> dict[str, Any]:
    """Send over A-B-C and wait for the outcome; returns the record as listsendpays shows it afterwards."""
    route = build_route(sim, *ABC, amount_msat)
    sim.rpc.call("sendpay", {"route": route, "payment_hash": payment_hash, "payment_secret": secret} | extra)
    try:
        sim.rpc.waitsendpay(payment_hash, timeout=10)
    except RpcError as failure:  # failed payments are part of the history too
        assert failure.error["code"] in (203, 204)
    return sim.rpc.listsendpays(payment_hash=payment_hash)["payments"][-1]


@pytest.fixture
def history(start_sim: Any) -> tuple[RunningSim, dict[str, Any]]:
    """Six records: 1 complete, 2 and 3 failed (3: expired invoice, bolt11), 4+5 one MPP, 6 pending."""
    sim = start_sim("regtest", hop_delay_ms=0, mpp_timeout_s=30)
    single = make_invoice(sim, "C", 50_000_000, description="single part")
    expired = make_invoice(sim, "C", 10_000_000, expiry=0)
    mpp = make_invoice(sim, "C", 40_000_000)
    held = make_invoice(sim, "C", 100_000_000)
    unknown = "0f" * 32
    pay(sim, single.payment_hash, 50_000_000, single.payment_secret, label="single part", bolt11=single.bolt11)
    pay(sim, unknown, 20_000_000, single.payment_secret)
    pay(sim, expired.payment_hash, 10_000_000, expired.payment_secret, bolt11=expired.bolt11)
    for partid, path in ((1, ABC), (2, ADC)):
        route = build_route(sim, *path, 20_000_000)
        sim.rpc.sendpay(
            route,
            mpp.payment_hash,
            payment_secret=mpp.payment_secret,
            partid=partid,
            groupid=3,
            amount_msat=40_000_000,
        )
    for partid in (1, 2):
        assert sim.rpc.waitsendpay(mpp.payment_hash, partid=partid, timeout=10)["status"] == "complete"
    route = build_route(sim, *ABC, 50_000_000)
    sim.rpc.sendpay(
        route,
        held.payment_hash,
        payment_secret=held.payment_secret,
        partid=1,
        groupid=1,
        amount_msat=100_000_000,
    )
    hashes = {"single": single, "unknown": unknown, "expired": expired, "mpp": mpp, "held": held}
    return sim, hashes


def ids(answer: dict[str, Any], key: str = "payments") -> list[int]:
    return [entry["created_index"] for entry in answer[key]]


def test_listsendpays_filters(history: tuple[RunningSim, dict[str, Any]]) -> None:
    sim, h = history
    everything = sim.rpc.listsendpays()
    assert_valid_response("listsendpays", everything)
    assert ids(everything) == [1, 2, 3, 4, 5, 6]
    statuses = [p["status"] for p in everything["payments"]]
    assert statuses == ["complete", "failed", "failed", "complete", "complete", "pending"]
    first = everything["payments"][0]
    assert list(first) == [
        "created_index", "id", "payment_hash", "groupid", "updated_index", "destination", "amount_msat",
        "amount_sent_msat", "created_at", "completed_at", "status", "payment_preimage", "label", "bolt11",
    ]  # fmt: skip
    assert list(everything["payments"][3])[4:6] == ["updated_index", "partid"]
    assert "updated_index" not in everything["payments"][5]  # never changed
    for status, expected in (("complete", [1, 4, 5]), ("failed", [2, 3]), ("pending", [6])):
        answer = sim.rpc.listsendpays(status=status)
        assert_valid_response("listsendpays", answer)
        assert ids(answer) == expected, status
    assert sim.rpc.listsendpays(payment_hash="00" * 32) == {"payments": []}
    assert ids(sim.rpc.listsendpays(payment_hash=h["mpp"].payment_hash)) == [4, 5]
    # payment_hash wins over status (lightningd ignores the status then)
    assert ids(sim.rpc.listsendpays(payment_hash=h["mpp"].payment_hash, status="failed")) == [4, 5]
    assert ids(sim.rpc.listsendpays(bolt11=h["single"].bolt11)) == [1]
    assert ids(sim.rpc.listsendpays(bolt11="LIGHTNING:" + h["expired"].bolt11.upper())) == [3]

    call = sim.rpc.call
    assert rpc_error(call, "listsendpays", {"status": "bogus"}) == {
        "code": -32602,
        "message": "status: should be an invoice status: invalid token '\"bogus\"'",
    }
    assert rpc_error(call, "listsendpays", {"index": "sideways"}) == {
        "code": -32602,
        "message": "index: unknown index: invalid token '\"sideways\"'",
    }
    assert rpc_error(call, "listsendpays", {"bolt11": h["single"].bolt11, "payment_hash": "00" * 32}) == {
        "code": -32602,
        "message": "Can only specify one of {bolt11} or {payment_hash}",
    }
    assert rpc_error(call, "listsendpays", {"start": 2}) == {
        "code": -32602,
        "message": "Can only specify {start} with {index}",
    }
    assert rpc_error(call, "listsendpays", {"limit": 2}) == {
        "code": -32602,
        "message": "Can only specify {limit} with {index}",
    }
    assert rpc_error(call, "listsendpays", {"payment_hash": "00" * 32, "index": "created", "start": 1}) == {
        "code": -32602,
        "message": "Cannot use start with bolt11 or payment_hash",
    }
    assert rpc_error(call, "listsendpays", {"bolt11": "lnbc1notaninvoice"}) == {
        "code": -32602,
        "message": "Invalid invstring: Bad bech32 string",
    }


def test_paging_by_created_and_updated(history: tuple[RunningSim, dict[str, Any]]) -> None:
    sim, h = history
    # updated_index follows the order parts changed: 1, 2, 3 for the first three, 4 and 5 for the MPP's parts
    # (in the order their preimage came back, as in sendpay_mpp.json), none for the pending one.
    updated = {p["created_index"]: p.get("updated_index", 0) for p in sim.rpc.listsendpays()["payments"]}
    assert [updated[i] for i in (1, 2, 3, 6)] == [1, 2, 3, 0]
    assert {updated[4], updated[5]} == {4, 5}
    sim.rpc.delpay(h["expired"].payment_hash, "failed")
    page = sim.rpc.listsendpays(index="created", start=2, limit=2)
    assert_valid_response("listsendpays", page)
    assert ids(page) == [2, 4]  # 3 was deleted, as in listsendpays.json
    assert ids(sim.rpc.listsendpays(index="created", start=5)) == [5, 6]
    assert ids(sim.rpc.listsendpays(index="created", limit=0)) == []
    assert ids(sim.rpc.listsendpays(index="created", start=1, limit=10, status="complete")) == [1, 4, 5]
    assert ids(sim.rpc.listsendpays(index="created", start=2, limit=1, status="complete")) == [4]
    by_updated = sim.rpc.listsendpays(index="updated")
    assert [p.get("updated_index", 0) for p in by_updated["payments"]] == [0, 1, 2, 4, 5]
    assert ids(by_updated)[0] == 6  # never updated: updated_index 0 sorts first
    assert [p["updated_index"] for p in sim.rpc.listsendpays(index="updated", start=2)["payments"]] == [
        2,
        4,
        5,
    ]
    assert ids(sim.rpc.listsendpays(index="updated", start=1, limit=2)) == [1, 2]
    assert ids(sim.rpc.listsendpays(index="updated", status="pending")) == [6]
    assert ids(sim.rpc.listsendpays(index="updated", start=1, status="pending")) == []


def test_delpay(history: tuple[RunningSim, dict[str, Any]]) -> None:
    sim, h = history
    expired = h["expired"].payment_hash
    assert rpc_error(sim.rpc.delpay, expired, "complete") == {
        "code": 208,
        "message": f"Payment with hash {expired} has failed status but it different from the one provided complete",
    }
    [record] = sim.rpc.listsendpays(payment_hash=expired)["payments"]
    deleted = sim.rpc.delpay(expired, "failed")
    assert_valid_response("delpay", deleted)
    assert deleted == {"payments": [record]}
    assert rpc_error(sim.rpc.delpay, expired, "failed") == {
        "code": 208,
        "message": f"Unknown payment with payment_hash: {expired}",
    }
    assert sim.rpc.listsendpays(payment_hash=expired) == {"payments": []}
    never = "b7" * 32
    assert rpc_error(sim.rpc.delpay, never, "failed") == {
        "code": 208,
        "message": f"Unknown payment with payment_hash: {never}",
    }
    held = h["held"].payment_hash
    assert rpc_error(sim.rpc.delpay, held, "pending") == {
        "code": -32602,
        "message": "status: Cannot delete pending status: invalid token '\"pending\"'",
    }
    assert rpc_error(sim.rpc.call, "delpay", {"payment_hash": held, "status": "failed", "partid": 1}) == {
        "code": -32602,
        "message": "Must set both partid and groupid, or neither",
    }
    mpp = h["mpp"].payment_hash
    assert rpc_error(
        sim.rpc.call, "delpay", {"payment_hash": mpp, "status": "complete", "partid": 9, "groupid": 3}
    ) == {
        "code": 208,
        "message": "No payment for that payment_hash with that partid and groupid",
    }
    one = sim.rpc.call("delpay", {"payment_hash": mpp, "status": "complete", "partid": 2, "groupid": 3})
    assert [(p["partid"], p["groupid"]) for p in one["payments"]] == [(2, 3)]
    assert ids(sim.rpc.listsendpays(payment_hash=mpp)) == [4]
    # Deleting a hash's records lowers its "last groupid": a resend of the unknown hash starts at group 1.
    unknown = h["unknown"]
    sim.rpc.delpay(unknown, "failed")
    route = build_route(sim, *ABC, 1_000_000)
    assert sim.rpc.sendpay(route, unknown)["groupid"] == 1
    assert ids(sim.rpc.listsendpays())[-1] == 7  # ids are never reused


def test_listpays_groups_parts(history: tuple[RunningSim, dict[str, Any]]) -> None:
    sim, h = history
    pays = sim.rpc.listpays()
    assert_valid_response("listpays", pays)
    by_hash = {entry["payment_hash"]: entry for entry in pays["pays"]}
    assert [entry["created_index"] for entry in pays["pays"]] == [1, 2, 3, 4, 6]
    single = by_hash[h["single"].payment_hash]
    assert list(single) == [
        "bolt11", "destination", "payment_hash", "status", "created_at", "completed_at", "label", "preimage",
        "amount_msat", "amount_sent_msat", "created_index", "updated_index",
    ]  # fmt: skip
    assert single["amount_sent_msat"] == 50_000_501 and single["label"] == "single part"
    failed = by_hash[h["unknown"]]
    assert failed == {
        "destination": sim.alias("C"),
        "payment_hash": h["unknown"],
        "status": "failed",
        "created_at": failed["created_at"],
        "amount_sent_msat": 0,
        "created_index": 2,
        "updated_index": 2,
    }
    mpp = by_hash[h["mpp"].payment_hash]
    assert mpp["number_of_parts"] == 2 and mpp["amount_msat"] == 40_000_000
    assert mpp["created_index"] == 4 and mpp["updated_index"] == 5
    held = by_hash[h["held"].payment_hash]
    assert held["status"] == "pending" and "updated_index" not in held
    assert [entry["payment_hash"] for entry in sim.rpc.listpays(status="complete")["pays"]] == [
        h["single"].payment_hash,
        h["mpp"].payment_hash,
    ]
    assert sim.rpc.listpays(payment_hash=h["mpp"].payment_hash)["pays"] == [mpp]
    assert rpc_error(sim.rpc.call, "listpays", {"status": "bogus"}) == {
        "code": -32602,
        "message": "status: should be an invoice status: invalid token '\"bogus\"'",
    }
    assert rpc_error(sim.rpc.call, "listpays", {"start": 3}) == {
        "code": -32602,
        "message": "Can only specify {start} with {index}",
    }
