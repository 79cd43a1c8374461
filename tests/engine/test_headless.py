"""The headless commands (``lnconsole decode | route | pay | history``) through ``cli.main``, against the simulated
regtest network over its socket (``--rpc-file <absolute path>``), plus one run of the real console script.

Regtest: A (us) reaches C by A-B-C, A-D-C and A-B-E-C; 540,000 sat to C only goes through split in three.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lnconsole.cli import main
from lnconsole.headless import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_NOT_SENT,
    EXIT_OK,
    EXIT_PENDING,
    CommandError,
    _PagedSendpays,
    parse_exclusions,
    parse_split,
    read_history,
)
from lnconsole.node import INVALID_PARAMS, NodeError, NodeSummary, Page, PylnNode, SendPayment
from lnconsole.routing import RouteFinder
from tests.conftest import RunningSim

SAT = 1000
REPO = Path(__file__).resolve().parents[2]

# BOLT 11's own test vector (mainnet, 2017): the wrong network for a regtest node, and long expired.
SPEC_COFFEE = (
    "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqq"
    "syqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53u"
    "t353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"
)
# A real lightningd's regtest invoice from June 2025 with a week's expiry: expired.
REGTEST_EXPIRED = (
    "lnbcrt71p5xyxdlsp5qz4jwtz5qarf2rl245hedz2lx6rt8l2mlzppm0hlngwmjj56w0vspp5rgnn0yma8x4pq4fmk3nptxglwn64qd9uw2txs"
    "32vc5zcq44lcptqdqqxqyjw5qcqp99qxpqysgqvrw0hwfrp63wrxxdwlezam6f2qlkpf8vgd30mecs8hh254sf9wkzyz3pjdtsxy0s4fntcau7"
    "aav8nvf8w9hyv36u5l9nudnekvdk27gp66ndw9"
)


class TtyInput(io.StringIO):
    """stdin as a terminal a person types into."""

    def isatty(self) -> bool:
        return True


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


Cli = Callable[..., Result]


@pytest.fixture
def cli(regtest: RunningSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("pay", bolt11, "--yes", stdin=...)``: main() against the regtest sim, output captured."""

    def run(*argv: str, stdin: io.StringIO | None = None, sim: RunningSim = regtest) -> Result:
        monkeypatch.setattr(sys, "stdin", stdin if stdin is not None else io.StringIO(""))
        capsys.readouterr()
        code = main([*argv, "--rpc-file", str(sim.socket_path)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Result(code, captured.out, captured.err)

    return run


def invoice(sim: RunningSim, amount_msat: int | None, payee: str = "C", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"node": payee, "description": "headless test", **extra}
    if amount_msat is not None:
        params["amount_msat"] = amount_msat
    return sim.rpc.call("dev-sim-invoice", params)


def records(sim: RunningSim, payment_hash: str | None = None) -> list[dict[str, Any]]:
    if payment_hash is None:
        return sim.rpc.call("listsendpays")["payments"]
    return sim.rpc.call("listsendpays", {"payment_hash": payment_hash})["payments"]


def squeeze_route_second_hop(sim: RunningSim, amount_msat: int) -> tuple[str, str]:
    """Leave the second channel of the route the finder picks for ``amount_msat`` to C with 10 sat; returns
    (that ``scid/dir``, the forwarding node's alias)."""
    node = PylnNode(sim.socket_path)
    route = RouteFinder(node, node.getinfo().id).find(sim.alias("C"), amount_msat, final_cltv=10)[0]
    hop = route.hops[1]
    sim.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": hop.short_channel_id, "direction": hop.direction, "spendable_msat": 10 * SAT},
    )
    return hop.short_channel_id_dir, route.hops[0].alias


def sha256_hex(preimage: str) -> str:
    return hashlib.sha256(bytes.fromhex(preimage)).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# decode


def test_decode_shows_the_fields_aligned(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 50_000_500, description="two coffees")
    result = cli("decode", "lightning:" + created["bolt11"].upper())

    assert result.code == EXIT_OK, result.err
    names = [
        "payee",
        "network",
        "amount",
        "description",
        "created",
        "expiry",
        "min_final_cltv",
        "payment_hash",
        "payment_secret",
        "features",
        "route hints",
    ]
    top = [line for line in result.out.splitlines() if not line.startswith(" ")]
    width = len("payment_secret")
    assert [line[:width].rstrip() for line in top] == names
    assert all(line[width : width + 2] == "  " and line[width + 2] != " " for line in top)  # values aligned
    fields = {line[:width].rstrip(): line[width + 2 :] for line in top}
    assert fields["payee"] == f"C {regtest.alias('C')}"
    assert fields["amount"] == "50,000.500 sat (50000500 msat)"
    assert fields["description"] == "two coffees"
    assert fields["payment_hash"] == created["payment_hash"]
    assert fields["payment_secret"] == created["payment_secret"]
    assert fields["min_final_cltv"] == "10 blocks"
    assert "basic_mpp (optional)" in fields["features"] and "payment_secret (required)" in fields["features"]
    assert fields["expiry"].endswith("in 7 days (604800 s after creation)")
    hint = f"1: B ({regtest.alias('B')[:12]}...) over 103x2x0 (fee 1 msat + 10 ppm, cltv delta 6)"
    assert fields["route hints"] == hint

    document = cli("decode", created["bolt11"], "--json").json()
    assert document["payable"] is True and document["problems"] == []
    assert document["invoice"]["payment_hash"] == created["payment_hash"]
    assert document["invoice"]["amount_msat"] == 50_000_500 and document["invoice"]["payee_alias"] == "C"


def test_decode_amountless_invoice_is_fine(cli: Cli, regtest: RunningSim) -> None:
    result = cli("decode", invoice(regtest, None)["bolt11"])
    assert result.code == EXIT_OK, result.err
    assert "any (the payer chooses" in result.out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("garbage", "invoice refused: not a BOLT11 invoice"),
        ("lnbcrt1qqqqqqq", "invoice refused"),
        (REGTEST_EXPIRED, "cannot be paid: the invoice expired"),
        (SPEC_COFFEE, "cannot be paid: this is a bitcoin invoice (lnbc...), but the node runs on regtest"),
    ],
    ids=["garbage", "truncated", "expired", "wrong network"],
)
def test_decode_refuses_with_reason_and_exit_code(cli: Cli, text: str, message: str) -> None:
    result = cli("decode", text)
    assert result.code == EXIT_BAD_INPUT
    assert message in result.err
    as_json = cli("decode", text, "--json")
    assert as_json.code == EXIT_BAD_INPUT
    assert message in as_json.err
    document = as_json.json()
    if "error" in document:
        assert message.removeprefix("invoice refused: ") in document["error"]["message"]
    else:
        assert document["payable"] is False and document["problems"]


# ---------------------------------------------------------------------------------------------------------------
# route


def test_route_single_table_and_json(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 50_000 * SAT)
    result = cli("route", created["bolt11"])
    assert result.code == EXIT_OK, result.err
    header = next(line for line in result.out.splitlines() if "hop" in line and "channel" in line)
    assert header.split() == [
        "hop",
        "node",
        "node",
        "id",
        "channel",
        "amount",
        "fee",
        "charged",
        "cltv",
        "delta",
        "delay",
    ]
    assert "sent 50,000.501 sat, fee 501 msat (10 ppm), delay 16 blocks (~2 h 40 min)" in result.out

    document = cli("route", created["bolt11"], "--json").json()
    (part,) = document["parts"]
    assert document["finder"] == "getroutes" and document["amount_msat"] == 50_000 * SAT
    assert part["route"][-1]["id"] == regtest.alias("C") and part["route"][-1]["amount_msat"] == 50_000 * SAT
    assert part["route"][-1]["delay"] == 10 and set(part["route"][0]) == {
        "id",
        "channel",
        "direction",
        "amount_msat",
        "delay",
        "style",
    }
    assert document["fee_msat"] == part["route"][0]["amount_msat"] - 50_000 * SAT == 501
    assert document["problems"] == []
    assert records(regtest) == []  # nothing sent


def test_route_in_parts_and_without(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 540_000 * SAT)
    alone = cli("route", created["bolt11"])
    assert alone.code == EXIT_FAILED
    assert alone.err.startswith("lnconsole: getroutes failed: No route for 540000sat") and "(code 205)" in alone.err

    split = cli("route", created["bolt11"], "--parts", "3", "--json").json()
    assert [part["partid"] for part in split["parts"]] == [1, 2, 3]
    assert sum(part["amount_msat"] for part in split["parts"]) == 540_000 * SAT
    assert all(part["route"][-1]["id"] == regtest.alias("C") for part in split["parts"])

    human = cli("route", created["bolt11"], "--plan-liquidity", "3")
    assert human.code == EXIT_OK and "Part 3 of 3: " in human.out and "Total: 540,000 sat in 3 parts" in human.out


def test_route_exclusions_and_limits(cli: Cli, regtest: RunningSim) -> None:
    bolt11 = invoice(regtest, 50_000 * SAT)["bolt11"]
    via_d = cli("route", bolt11, "--exclude", "103x1x0", "--json").json()
    assert [hop["channel"] for hop in via_d["parts"][0]["route"]] == ["103x3x0", "103x4x0"]
    via_e = cli("route", bolt11, "--exclude", f"{regtest.alias('D')},103x2x0/1", "--json").json()
    assert [hop["channel"] for hop in via_e["parts"][0]["route"]] == ["103x1x0", "103x5x0", "103x6x0"]

    too_long = cli("route", bolt11, "--exclude", regtest.alias("D"), "--exclude", "103x2x0", "--maxhops", "2")
    assert too_long.code == EXIT_FAILED and "more than --maxhops 2" in too_long.err

    for argv, message in [
        (("--exclude", "103x1"), "--exclude '103x1' is neither a channel"),
        (("--exclude", "103x1x0/2"), "--exclude '103x1x0/2' is neither"),
        (("--exclude", regtest.alias("C")), "names the payee itself"),
        (("--maxfee", "ten sat"), "--maxfee: 'ten sat' is not an amount"),
        (("--split", "100000sat,x"), "--split: part 2: 'x' is not an amount"),
        (("--split", "10sat,20sat"), "The parts add up to 30sat"),
        (("--amount", "1sat"), "less than the invoice's 50000sat"),
    ]:
        result = cli("route", bolt11, *argv)
        assert result.code == EXIT_BAD_INPUT, (argv, result.err)
        assert message in result.err, (argv, result.err)
    assert records(regtest) == []


def test_argument_parsing_helpers() -> None:
    node = "02" + "ab" * 32
    assert parse_exclusions(["103x1x0/1, 103x2x0", node.upper()]) == ((node,), ("103x1x0/1", "103x2x0"))
    with pytest.raises(CommandError, match="not a valid short_channel_id"):
        parse_exclusions(["99999999x1x0"])
    assert parse_split("100000sat, 0.001btc,5000") == (100_000_000, 100_000_000, 5000)
    for bad in ("", "1sat,,2sat", "0sat", "-5sat"):
        with pytest.raises(CommandError) as raised:
            parse_split(bad)
        assert raised.value.exit_code == EXIT_BAD_INPUT


def test_old_node_with_getroute_and_decodepay(start_sim: Callable[..., RunningSim], cli: Cli) -> None:
    legacy = start_sim("regtest", generation="legacy")
    created = invoice(legacy, 50_000 * SAT)
    assert cli("decode", created["bolt11"], sim=legacy).code == EXIT_OK
    too_short = cli("route", created["bolt11"], "--maxhops", "1", sim=legacy)
    assert too_short.code == EXIT_FAILED
    assert too_short.err.startswith("lnconsole: getroute failed: No route for 50000sat")
    assert "(code 205)" in too_short.err
    assert cli("route", created["bolt11"], "--json", sim=legacy).json()["finder"] == "getroute"
    paid = cli("pay", created["bolt11"], "--yes", "--json", sim=legacy).json_lines()[-1]
    assert paid["status"] == "complete"
    assert [p["status"] for p in cli("history", "--json", sim=legacy).json()["payments"]] == ["complete"]


# ---------------------------------------------------------------------------------------------------------------
# pay


def test_pay_single_with_yes(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 50_000 * SAT)
    result = cli("pay", created["bolt11"], "--yes")

    assert result.code == EXIT_OK, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("part 1  sent      50,000 sat via ") and "(fee 0.501 sat)" in lines[0]
    assert lines[1].startswith("part 1  complete  preimage ")
    assert lines[2].startswith("paid 50,000 sat: fee 0.501 sat (10 ppm), 1 part,")
    preimage = lines[3].removeprefix("preimage ")
    assert sha256_hex(preimage) == created["payment_hash"]
    (record,) = records(regtest, created["payment_hash"])
    assert record["status"] == "complete" and record["payment_preimage"] == preimage
    assert record["bolt11"] == created["bolt11"] and record["partid"] == 1 and record["groupid"] == 1


def test_pay_asks_and_sends_nothing_without_yes(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 20_000 * SAT)
    for stdin in (TtyInput("no\n"), TtyInput(""), TtyInput("y\n"), io.StringIO("yes\n")):
        result = cli("pay", created["bolt11"], stdin=stdin)
        assert result.code == EXIT_NOT_SENT
        assert "lnconsole: not sent" in result.err
        assert f"destination  C {regtest.alias('C')}" in result.out
        assert "amount       20,000 sat" in result.out and "fees         0.201 sat (10 ppm)" in result.out
        assert "worst delay  16 blocks" in result.out and "parts        1" in result.out
    assert "no terminal to confirm on" in result.err  # the piped "yes" is not consent
    assert records(regtest) == []

    declined = cli("pay", created["bolt11"], "--json", stdin=TtyInput("nope\n"))
    assert declined.code == EXIT_NOT_SENT and declined.json_lines()[-1]["status"] == "not_sent"
    assert "Type yes to send" in declined.err  # the prompt stays off the JSON
    assert records(regtest) == []

    typed = cli("pay", created["bolt11"], stdin=TtyInput("yes\n"))
    assert typed.code == EXIT_OK and "Type yes to send this payment: " in typed.out
    assert [r["status"] for r in records(regtest, created["payment_hash"])] == ["complete"]


def test_pay_three_part_split(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 540_000 * SAT)
    result = cli("pay", created["bolt11"], "--parts", "3", "--yes", "--json")

    assert result.code == EXIT_OK, result.err
    events = result.json_lines()
    assert [e["event"] for e in events].count("part_sent") == 3
    assert {e["partid"] for e in events if e["event"] == "part_complete"} == {1, 2, 3}
    final = events[-1]
    assert final["event"] == "result" and final["status"] == "complete" and final["parts"] == 3
    assert sha256_hex(final["preimage"]) == created["payment_hash"]
    assert final["fee_msat"] == final["amount_sent_msat"] - 540_000 * SAT
    paid = records(regtest, created["payment_hash"])
    assert sorted((r["groupid"], r["partid"], r["status"]) for r in paid) == [
        (1, 1, "complete"),
        (1, 2, "complete"),
        (1, 3, "complete"),
    ]


def test_pay_custom_split(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 500_000 * SAT)
    result = cli("pay", created["bolt11"], "--split", "300000sat,200000sat", "--yes")
    assert result.code == EXIT_OK, result.err
    assert sorted(r["amount_msat"] for r in records(regtest, created["payment_hash"])) == [200_000 * SAT, 300_000 * SAT]


def test_pay_failing_hop_without_and_with_retry(cli: Cli, regtest: RunningSim) -> None:
    squeezed, forwarder = squeeze_route_second_hop(regtest, 50_000 * SAT)
    first = invoice(regtest, 50_000 * SAT)
    failed = cli("pay", first["bolt11"], "--yes")

    assert failed.code == EXIT_FAILED
    line = next(line for line in failed.out.splitlines() if "failed" in line)
    assert line == f"part 1  failed    WIRE_TEMPORARY_CHANNEL_FAILURE at hop 2 ({forwarder}, channel {squeezed})"
    assert "Next: Reroute this part around" in failed.out
    assert "lnconsole: payment failed:" in failed.err and "--retry" in failed.err
    assert [r["status"] for r in records(regtest, first["payment_hash"])] == ["failed"]

    second = invoice(regtest, 50_000 * SAT)
    retried = cli("pay", second["bolt11"], "--yes", "--retry", "2", "--json")
    assert retried.code == EXIT_OK, retried.err
    events = retried.json_lines()
    failure = next(e for e in events if e["event"] == "part_failed")
    assert failure["failure"]["failcodename"] == "WIRE_TEMPORARY_CHANNEL_FAILURE" and failure["code"] == 204
    assert failure["explanation"]["erring_hop"] == 1 and squeezed in failure["explanation"]["exclusions"]
    resent = [e for e in events if e["event"] == "part_sent"][-1]
    assert resent["retry_of"] == [1, 1]
    assert squeezed not in {hop["short_channel_id_dir"] for hop in resent["route"]}
    assert events[-1]["status"] == "complete"
    assert sorted((r["groupid"], r["status"]) for r in records(regtest, second["payment_hash"])) == [
        (1, "failed"),
        (2, "complete"),
    ]


def test_already_paid_invoice_sends_nothing(cli: Cli, regtest: RunningSim) -> None:
    created = invoice(regtest, 30_000 * SAT)
    assert cli("pay", created["bolt11"], "--yes").code == EXIT_OK
    before = records(regtest, created["payment_hash"])

    again = cli("pay", created["bolt11"])  # not even asked: nothing would be sent
    assert again.code == EXIT_OK
    assert again.out.startswith("already paid: 30,000 sat in 1 part(s) (group 1); nothing was sent")
    assert f"preimage {before[0]['payment_preimage']}" in again.out
    as_json = cli("pay", created["bolt11"], "--yes", "--json").json_lines()
    assert as_json == [as_json[-1]] and as_json[-1]["status"] == "already_paid"
    assert records(regtest, created["payment_hash"]) == before


def test_pay_refuses_bad_input_before_sending(cli: Cli, regtest: RunningSim) -> None:
    amountless = invoice(regtest, None)["bolt11"]
    no_amount = cli("pay", amountless, "--yes")
    assert no_amount.code == EXIT_BAD_INPUT and "the invoice has no amount" in no_amount.err
    for argv, message in [
        ((REGTEST_EXPIRED, "--yes"), "not sent: the invoice expired"),
        ((amountless, "--amount", "12 apples", "--yes"), "not sent: '12 apples' is not an amount"),
        ((amountless, "--amount", "1000sat", "--split", "600sat,300sat", "--yes"), "The parts add up to 900sat"),
        (("lnbcrt1garbage", "--yes"), "invoice refused"),
    ]:
        result = cli("pay", *argv)
        assert result.code == EXIT_BAD_INPUT, (argv, result.err)
        assert message in result.err, (argv, result.err)
    paid = cli("pay", amountless, "--amount", "1000sat", "--yes", "--json").json_lines()[-1]
    assert paid["status"] == "complete" and paid["amount_msat"] == 1000 * SAT
    assert len(records(regtest)) == 1


def test_pay_follows_parts_already_in_flight_and_times_out(start_sim: Callable[..., RunningSim], cli: Cli) -> None:
    slow = start_sim("regtest", hop_delay_ms=500)
    created = invoice(slow, 40_000 * SAT)
    node = PylnNode(slow.socket_path)
    route = RouteFinder(node, node.getinfo().id).find(slow.alias("C"), 40_000 * SAT, final_cltv=10)[0]
    node.sendpay(
        route.to_sendpay(),
        created["payment_hash"],
        amount_msat=40_000 * SAT,
        bolt11=created["bolt11"],
        payment_secret=created["payment_secret"],
        partid=1,
        groupid=1,
    )

    watched = cli("pay", created["bolt11"], sim=slow)  # no --yes needed: nothing new is sent
    assert watched.code == EXIT_OK, watched.err
    assert watched.out.startswith("1 part(s) of this payment are in flight on the node (group 1)")
    assert "part 1  found     40,000 sat already in flight" in watched.out and "paid 40,000 sat" in watched.out
    assert [r["status"] for r in records(slow, created["payment_hash"])] == ["complete"]

    later = invoice(slow, 10_000 * SAT)
    timed_out = cli("pay", later["bolt11"], "--yes", "--timeout", "0.2", "--json", sim=slow)
    assert timed_out.code == EXIT_PENDING
    assert timed_out.json_lines()[-1]["status"] == "pending" and "still pending after 0.2 s" in timed_out.err
    done = slow.rpc.call("waitsendpay", {"payment_hash": later["payment_hash"], "partid": 1, "groupid": 1})
    assert done["status"] == "complete"  # the payment went on on the node


# ---------------------------------------------------------------------------------------------------------------
# history


def test_history_groups_filters_and_limits(cli: Cli, regtest: RunningSim) -> None:
    assert cli("history").out.strip() == "No payments."
    single = invoice(regtest, 50_000 * SAT)
    assert cli("pay", single["bolt11"], "--yes").code == EXIT_OK
    split = invoice(regtest, 540_000 * SAT)
    assert cli("pay", split["bolt11"], "--parts", "3", "--yes").code == EXIT_OK
    squeeze_route_second_hop(regtest, 20_000 * SAT)
    failing = invoice(regtest, 20_000 * SAT)
    assert cli("pay", failing["bolt11"], "--yes", "--exclude", "103x6x0").code == EXIT_FAILED

    table = cli("history")
    assert table.code == EXIT_OK
    header, *rows = table.out.splitlines()
    assert header.split()[:3] == ["created", "(UTC)", "status"]
    assert [row.split()[2] for row in rows] == ["failed", "complete", "complete"]
    assert failing["payment_hash"][:16] in rows[0] and "20,000 sat" in rows[0]
    assert split["payment_hash"][:16] in rows[1] and "540,000 sat" in rows[1] and "  3  " in rows[1]

    document = cli("history", "--json").json()
    assert [(p["payment_hash"], p["status"], p["number_of_parts"]) for p in document["payments"]] == [
        (failing["payment_hash"], "failed", 1),
        (split["payment_hash"], "complete", 3),
        (single["payment_hash"], "complete", 1),
    ]
    assert document["payments"][1]["fee_msat"] == document["payments"][1]["amount_sent_msat"] - 540_000 * SAT
    assert document["payments"][0]["amount_msat"] == 20_000 * SAT and document["payments"][0]["fee_msat"] is None

    only_failed = cli("history", "--status", "failed", "--json").json()["payments"]
    assert [p["payment_hash"] for p in only_failed] == [failing["payment_hash"]]
    complete = cli("history", "--status", "complete", "--limit", "1", "--json").json()["payments"]
    assert [p["payment_hash"] for p in complete] == [split["payment_hash"]]
    assert cli("history", "--status", "pending").out.strip() == "No payments with status pending."


def test_history_retry_in_new_group_is_its_own_attempt(cli: Cli, regtest: RunningSim) -> None:
    squeeze_route_second_hop(regtest, 50_000 * SAT)
    created = invoice(regtest, 50_000 * SAT)
    assert cli("pay", created["bolt11"], "--yes", "--retry", "1").code == EXIT_OK
    attempts = cli("history", "--json").json()["payments"]
    assert [(p["groupid"], p["status"]) for p in attempts] == [(2, "complete"), (1, "failed")]
    assert {p["payment_hash"] for p in attempts} == {created["payment_hash"]}


class FakeBook:
    """listsendpays as lightningd pages it (``index=created``, ``start``, ``limit``, ``status``), counting calls."""

    def __init__(self, parts: list[SendPayment]) -> None:
        self.parts = sorted(parts, key=lambda part: part.created_index)
        self.calls = 0
        self.paging = True

    def listsendpays_page(self, *, start: int, limit: int, status: str | None = None) -> Page:
        self.calls += 1
        if not self.paging:
            raise NodeError("listsendpays", INVALID_PARAMS, "Unknown parameter 'index'")
        chosen = [p for p in self.parts if p.created_index >= start and (status is None or p.status == status)]
        return Page(tuple(chosen[:limit]), None)

    def listsendpays(
        self, *, payment_hash: str | None = None, status: str | None = None, **_: Any
    ) -> list[SendPayment]:
        self.calls += 1
        return [p for p in self.parts if payment_hash in (None, p.payment_hash) and status in (None, p.status)]

    def listnodes(self, node_id: str | None = None) -> list[NodeSummary]:
        return [NodeSummary(node_id or "", "Z", "")]


def fake_part(index: int, payment: int, status: str, groupid: int = 1, partid: int = 1) -> SendPayment:
    return SendPayment(
        created_index=index,
        payment_hash=f"{payment:064x}",
        groupid=groupid,
        partid=partid,
        status=status,
        amount_msat=1000,
        amount_sent_msat=1001,
        destination="02" + "cd" * 32,
        created_at=1_700_000_000 + index,
    )


def test_paged_reading_from_the_end_is_exact_and_cheap() -> None:
    # 3000 payments with gaps (deleted records) and a rare status.
    parts = [fake_part(i, i, "pending" if i % 997 == 0 else "complete") for i in range(1, 6001) if i % 2 or i > 5000]
    book = FakeBook(parts)
    newest = [p.created_index for p in parts][::-1]
    assert [p.created_index for p in _PagedSendpays(book, None, 64).newest_first()] == newest  # type: ignore[arg-type]
    rare = [p.created_index for p in parts if p.status == "pending"][::-1]
    reader = _PagedSendpays(book, "pending", 64)  # type: ignore[arg-type]
    assert [p.created_index for p in reader.newest_first()] == rare
    assert reader.calls < 120  # O(log N) per gap, not N / window

    book.calls = 0
    page = read_history(book, limit=10)  # type: ignore[arg-type]
    assert [int(e.payment_hash, 16) for e in page.entries] == newest[:10]
    assert page.paged and page.calls == book.calls and book.calls <= 2 * 13 + 2 + 10


def test_history_keeps_an_attempts_parts_together_and_reads_old_nodes_whole() -> None:
    parts = [
        fake_part(1, 7, "failed", groupid=1, partid=1),
        fake_part(2, 7, "complete", groupid=1, partid=2),
        *(fake_part(i, 100 + i, "complete") for i in range(3, 40)),
        fake_part(40, 7, "complete", groupid=1, partid=3),  # a late part of the first payment
        fake_part(41, 8, "failed"),
    ]
    book = FakeBook(parts)
    entries = read_history(book, limit=3).entries  # type: ignore[arg-type]
    assert [(int(e.payment_hash, 16), e.status, len(e.parts)) for e in entries] == [
        (8, "failed", 1),
        (7, "complete", 3),
        (139, "complete", 1),
    ]
    assert entries[1].amount_msat == 2000 and entries[1].fee_msat == 2

    book.paging = False
    old = read_history(book, status="complete", limit=2)  # type: ignore[arg-type]
    assert not old.paged and [int(e.payment_hash, 16) for e in old.entries] == [7, 139]


# ---------------------------------------------------------------------------------------------------------------
# Connecting


def test_missing_socket_is_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    missing = tmp_path / "lightning-rpc"
    for argv in (["decode", SPEC_COFFEE], ["route", SPEC_COFFEE], ["pay", SPEC_COFFEE, "--yes"], ["history"]):
        code = main([*argv, "--rpc-file", str(missing)])
        captured = capsys.readouterr()
        assert code == EXIT_FAILED
        assert captured.err == f"lnconsole: cannot reach lightningd at {missing}: no such socket\n"
    code = main(["history", "--lightning-dir", str(tmp_path), "--network", "regtest", "--json"])
    captured = capsys.readouterr()
    assert code == EXIT_FAILED
    error = json.loads(captured.out)["error"]
    assert error["message"] == f"cannot reach lightningd at {tmp_path / 'regtest' / 'lightning-rpc'}: no such socket"


def test_finds_the_node_like_lightning_cli(
    regtest: RunningSim, short_socket_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    network_dir = short_socket_dir / "ld" / "regtest"
    network_dir.mkdir(parents=True)
    (network_dir / "lightning-rpc").symlink_to(regtest.socket_path)
    assert main(["history", "--lightning-dir", str(short_socket_dir / "ld"), "--network", "regtest"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == "No payments."


# ---------------------------------------------------------------------------------------------------------------
# The real console script


def test_console_script_pays_end_to_end(regtest: RunningSim) -> None:
    created = invoice(regtest, 60_000 * SAT)
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "lnconsole.cli",
            "pay",
            created["bolt11"],
            "--yes",
            "--json",
            "--rpc-file",
            str(regtest.socket_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert finished.returncode == EXIT_OK, finished.stderr
    events = [json.loads(line) for line in finished.stdout.splitlines()]
    assert [e["event"] for e in events] == ["part_sent", "part_complete", "payment_complete", "result"]
    assert events[-1]["status"] == "complete" and sha256_hex(events[-1]["preimage"]) == created["payment_hash"]
    assert [r["status"] for r in records(regtest, created["payment_hash"])] == ["complete"]


def test_events_from_threads_print_whole_lines(cli: Cli, regtest: RunningSim) -> None:
    """Parts complete on several watcher threads at once: every JSON line must still parse."""
    created = invoice(regtest, 600_000 * SAT)
    result = cli("pay", created["bolt11"], "--plan-liquidity", "4", "--yes", "--json")
    assert result.code == EXIT_OK, result.err
    assert result.json_lines()[-1]["status"] == "complete"
    assert threading.active_count() < 20
