"""Invoices and routes that must be refused before money moves (issue 6): expired (also while the payer was
confirming), wrong network, bad signature, an edited route that delivers another amount than the invoice's or ends
at another node than its payee. And one that is said, not refused: an invoice that expires before the route's
worst-case delay (see :func:`lnconsole.invoice.expiry_against_delay` for why that is a warning).

Each is checked where it matters: the engine (``load_invoice``, ``check_route``, the plan ``launch`` takes), the
headless ``pay`` (even with ``--yes``), and the screens. Every test then counts the ``sendpay`` calls that
reached the simulated node (and its ``listsendpays``): zero.

Regtest: A is us, C the payee, reached by A-B-C, A-D-C and A-B-E-C; fees 1 msat + 10 ppm and delta 6 a hop, the
invoices' min_final_cltv 10, so the two-hop routes carry 16 blocks (about 2 h 40 min).
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bolt11
import pytest
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod
from textual import events
from textual.message import Message
from textual.pilot import Pilot

from lnconsole import headless
from lnconsole.cli import main
from lnconsole.invoice import InvoiceError, expiry_against_delay, load_invoice
from lnconsole.node import PylnNode
from lnconsole.plan import PaymentPlan, PaymentTarget, PlanError, PlannedPart, single
from lnconsole.routing import Route, RouteEditor, check_route, recompute, route_to_json
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.messages import InvoiceChosen, PayRequested
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.route_dialogs import ImportRouteDialog
from lnconsole.screens.split import SplitScreen
from lnconsole.sim.invoices import sign_bolt11
from tests.conftest import RunningSim
from tests.engine.helpers import Regtest
from tests.faults.helpers import check_parts
from tests.ui.helpers import app_for, in_event_loop, wait_until, workers_done

SAT = 1000
AMOUNT = 50_000 * SAT
HOUR = 3600


# ---------------------------------------------------------------------------------------------------------------
# The node, counting what reaches it


class Counted:
    """The regtest simulator, counting every ``sendpay`` call that reaches it (whatever it answers)."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        self.calls: list[Any] = []
        inner = sim.server.call

        async def counting(method: str, params: Any, connection: Any = None) -> dict[str, Any]:
            if method == "sendpay":
                self.calls.append(params)
            return await inner(method, params, connection)

        sim.server.call = counting  # type: ignore[method-assign]

    def nothing_sent(self, *payment_hashes: str) -> None:
        """No sendpay call reached the node, and it has no part of these payments (counted in the tally)."""
        assert self.calls == [], f"sendpay reached the node: {self.calls}"
        node = PylnNode(self.sim.socket_path)
        for payment_hash in payment_hashes:
            check_parts(node.listsendpays(payment_hash=payment_hash), expected=set())


@pytest.fixture
def net(regtest: RunningSim) -> Regtest:
    return Regtest(regtest)


@pytest.fixture
def sendpays(regtest: RunningSim) -> Counted:
    return Counted(regtest)


@dataclass
class Result:
    code: int
    out: str
    err: str


class TtyInput(io.StringIO):
    """stdin as a terminal a person types into; ``on_read`` runs when the answer is read (time passes)."""

    def __init__(self, text: str, on_read: Callable[[], None] = lambda: None) -> None:
        super().__init__(text)
        self.on_read = on_read

    def isatty(self) -> bool:
        return True

    def readline(self, *args: Any) -> str:  # type: ignore[override]
        self.on_read()
        return super().readline(*args)


Cli = Callable[..., Result]


@pytest.fixture
def cli(regtest: RunningSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("pay", bolt11, "--yes", stdin=...)``: the headless command against the regtest sim, output captured."""

    def run(*argv: str, stdin: io.StringIO | None = None) -> Result:
        monkeypatch.setattr(sys, "stdin", stdin if stdin is not None else io.StringIO(""))
        capsys.readouterr()
        code = main([*argv, "--rpc-file", str(regtest.socket_path)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return Result(code, captured.out, captured.err)

    return run


# ---------------------------------------------------------------------------------------------------------------
# Invoices


def issue(sim: RunningSim, amount_msat: int | str = AMOUNT, **extra: Any) -> dict[str, Any]:
    return sim.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": amount_msat, **extra})


def issued_at(sim: RunningSim, created_at: float, **extra: Any) -> dict[str, Any]:
    """An invoice of C signed as if at ``created_at`` (the simulator's clock moved for that one call)."""
    clock = sim.node.clock
    sim.node.clock = lambda: created_at
    try:
        return issue(sim, **extra)
    finally:
        sim.node.clock = clock


def resigned(sim: RunningSim, created: dict[str, Any], currency: str) -> str:
    """C's invoice (same hash and secret), signed by C for another network: as a payee on that network would."""
    return sign_bolt11(
        currency=currency,
        secret_key=sim.node.find_node("C").secret_key,
        payment_hash=created["payment_hash"],
        payment_secret=created["payment_secret"],
        amount_msat=AMOUNT,
        description="refusal test",
        created_at=int(time.time()),
        expiry=HOUR,
        min_final_cltv_expiry=10,
    )


def naming_its_payee(sim: RunningSim, created: dict[str, Any]) -> str:
    """C's invoice with an ``n`` field naming C (BOLT 11 allows it; the signature must then match it)."""
    tags = bolt11.Tags()
    tags.add(bolt11.TagChar.payment_secret, created["payment_secret"])
    tags.add(bolt11.TagChar.payment_hash, created["payment_hash"])
    tags.add(bolt11.TagChar.description, "names its payee")
    tags.add(bolt11.TagChar.payee, sim.alias("C"))
    tags.add(bolt11.TagChar.min_final_cltv_expiry, 10)
    invoice = bolt11.Bolt11(currency="bcrt", date=int(time.time()), tags=tags, amount_msat=bolt11.MilliSatoshi(AMOUNT))
    secret = sim.node.find_node("C").secret_key.hex()
    return bolt11.encode(invoice, secret, ignore_exceptions=True, keep_payee=True)


def _words(text: str) -> tuple[str, list[int]]:
    hrp, _, data = text.rpartition("1")
    return hrp, [CHARSET.index(char) for char in data[:-6]]


def _encode(hrp: str, words: list[int]) -> str:
    polymod = bech32_polymod([*bech32_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    return hrp + "1" + "".join(CHARSET[word] for word in [*words, *((polymod >> 5 * (5 - i)) & 31 for i in range(6))])


def tampered(text: str, *, where: str) -> str:
    """The invoice with its signed data changed and its checksum recomputed, so that only the signature tells:
    ``field`` changes one word of the payment_hash (``p``) field's value, ``signature`` zeroes r and s (no key
    can be recovered from them)."""
    hrp, words = _words(text)
    if where == "signature":
        return _encode(hrp, words[:-104] + [0] * 103 + words[-1:])
    at = 7  # after the timestamp: type, two length words, value
    while CHARSET[words[at]] != "p":
        at += 3 + words[at + 1] * 32 + words[at + 2]
    changed = list(words)
    changed[at + 3] ^= 1
    return _encode(hrp, changed)


# ---------------------------------------------------------------------------------------------------------------
# Expired


def test_an_expired_invoice_is_refused_before_money_moves(regtest: RunningSim, sendpays: Counted, cli: Cli) -> None:
    created = issued_at(regtest, time.time() - 2 * HOUR, expiry=HOUR)
    payable = load_invoice(PylnNode(regtest.socket_path), created["bolt11"])
    assert not payable.ok
    assert "the invoice expired 60 min ago: ask the payee for a new one" in payable.problems

    paid = cli("pay", created["bolt11"], "--yes")
    assert paid.code == headless.EXIT_BAD_INPUT
    assert paid.err.startswith("lnconsole: not sent: the invoice expired 60 min ago")
    routed = cli("route", created["bolt11"])
    assert routed.code == headless.EXIT_BAD_INPUT and "invoice refused: the invoice expired" in routed.err
    sendpays.nothing_sent(created["payment_hash"])


def test_an_invoice_that_expires_while_the_payer_confirms_is_not_sent(
    regtest: RunningSim, sendpays: Counted, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payer read the plan for two hours before typing yes: the invoice expired meanwhile."""
    created = issue(regtest, expiry=HOUR)
    offset = [0.0]
    clock = types.SimpleNamespace(time=lambda: time.time() + offset[0], monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(headless, "time", clock)

    def two_hours_pass() -> None:
        offset[0] = 2 * HOUR

    result = cli("pay", created["bolt11"], stdin=TtyInput("yes\n", on_read=two_hours_pass))
    assert "Type yes to send this payment: " in result.out  # it was asked, and answered yes
    assert result.code == headless.EXIT_BAD_INPUT
    said = result.err.strip()
    assert re.fullmatch(r"lnconsole: not sent: the invoice expired (59|60) min ago: ask the payee for a new one", said)
    sendpays.nothing_sent(created["payment_hash"])


# ---------------------------------------------------------------------------------------------------------------
# Expiring before the worst-case delay: said before sending


def test_an_invoice_expiring_within_the_worst_case_delay_is_said_before_sending(
    regtest: RunningSim, sendpays: Counted, cli: Cli
) -> None:
    created = issue(regtest, expiry=HOUR)
    invoice = load_invoice(PylnNode(regtest.socket_path), created["bolt11"]).invoice
    now = invoice.created_at + 60
    assert expiry_against_delay(invoice, 16, now) == (
        (),
        (
            "the invoice expires in 59 min, sooner than the route's worst-case delay (16 blocks, ~2 h 40 min): if a "
            "hop holds the payment that long, the payee refuses it and the funds stay locked until the delay runs out",
        ),
    )
    assert expiry_against_delay(invoice, 5, now) == ((), ())  # 50 min of delay: within the hour left
    assert expiry_against_delay(invoice, 16, invoice.created_at + HOUR + 1)[0] == (
        "the invoice expired 1s ago: ask the payee for a new one",
    )

    routed = cli("route", created["bolt11"])
    assert routed.code == headless.EXIT_OK
    warning = r"warning: the invoice expires in (59|60) min, sooner than the route's worst-case delay \(16 blocks"
    assert re.search(warning, routed.out), routed.out
    asked = cli("pay", created["bolt11"], stdin=TtyInput("no\n"))  # shown before the question; the payer says no
    assert asked.code == headless.EXIT_NOT_SENT
    assert re.search(warning, asked.out.split("Type yes")[0]), asked.out

    week = issue(regtest)  # lightningd's default expiry: a week, far beyond 16 blocks
    assert "worst-case delay" not in cli("route", week["bolt11"]).out
    sendpays.nothing_sent(created["payment_hash"], week["payment_hash"])


# ---------------------------------------------------------------------------------------------------------------
# Wrong network


@pytest.mark.parametrize(("currency", "network"), [("bc", "bitcoin"), ("tb", "testnet"), ("tbs", "signet")])
def test_an_invoice_for_another_network_is_refused(
    regtest: RunningSim, sendpays: Counted, cli: Cli, currency: str, network: str
) -> None:
    created = issue(regtest)
    text = resigned(regtest, created, currency)
    payable = load_invoice(PylnNode(regtest.socket_path), text)
    assert payable.invoice.payee == regtest.alias("C") and payable.invoice.network == network
    prefix = {"bitcoin": "lnbc", "testnet": "lntb", "signet": "lntbs"}[network]
    refusal = f"this is a {network} invoice ({prefix}...), but the node runs on regtest"
    assert refusal in payable.problems and not payable.ok

    paid = cli("pay", text, "--yes")
    assert paid.code == headless.EXIT_BAD_INPUT and refusal in paid.err and paid.err.startswith("lnconsole: not sent")
    decoded = cli("decode", text)
    assert decoded.code == headless.EXIT_BAD_INPUT and f"lnconsole: cannot be paid: {refusal}" in decoded.err
    sendpays.nothing_sent(created["payment_hash"])


# ---------------------------------------------------------------------------------------------------------------
# Bad signature


def test_a_signature_that_does_not_match_the_named_payee_is_refused(
    regtest: RunningSim, sendpays: Counted, cli: Cli
) -> None:
    created = issue(regtest)
    named = naming_its_payee(regtest, created)
    node = PylnNode(regtest.socket_path)
    assert load_invoice(node, named).invoice.payee == regtest.alias("C")  # as signed, it verifies

    forged = tampered(named, where="field")
    hrp, words = _words(forged)
    assert hrp == _words(named)[0] and sum(a != b for a, b in zip(words, _words(named)[1], strict=True)) == 1
    with pytest.raises(InvoiceError, match="the signature does not match the payee named in the invoice"):
        load_invoice(node, forged)
    paid = cli("pay", forged, "--yes")
    assert paid.code == headless.EXIT_BAD_INPUT
    assert paid.err.startswith("lnconsole: invoice refused: the signature does not match the payee")

    broken = tampered(created["bolt11"], where="signature")
    with pytest.raises(InvoiceError, match="the signature cannot be verified"):
        load_invoice(node, broken)
    assert cli("pay", broken, "--yes").code == headless.EXIT_BAD_INPUT
    sendpays.nothing_sent(created["payment_hash"])


def test_a_tampered_invoice_without_payee_field_is_caught_by_its_route_hint(
    regtest: RunningSim, sendpays: Counted, cli: Cli
) -> None:
    """Without an ``n`` field the signature names whoever signed: a tampered invoice verifies as a stranger's. Its
    route hint still says the real payee's channel (103x2x0, B-C) leads to it, which gossip contradicts: refused.
    (This was paid with --yes before: the HTLC went to B and down C's channel, addressed to the stranger.)"""
    created = issue(regtest)
    forged = tampered(created["bolt11"], where="field")
    payable = load_invoice(PylnNode(regtest.socket_path), forged)
    stranger = payable.invoice.payee
    assert stranger != regtest.alias("C") and not payable.ok
    problem = (
        f"route hint 1 sends the payment over 103x2x0 to the payee {stranger[:16]}…, but that channel joins "
        f"{min(regtest.alias('B'), regtest.alias('C'))[:16]}… and {max(regtest.alias('B'), regtest.alias('C'))[:16]}…: "
        "the invoice was altered or is corrupt (without an n field, an altered invoice verifies as signed by some "
        "other key)"
    )
    assert problem in payable.problems
    paid = cli("pay", forged, "--yes")
    assert paid.code == headless.EXIT_BAD_INPUT and paid.err.startswith("lnconsole: not sent: route hint 1 sends")

    # Without a route hint nothing in the invoice can tell: the stranger is not in gossip, and has no route.
    unhinted = sign_bolt11(
        currency="bcrt",
        secret_key=regtest.node.find_node("C").secret_key,
        payment_hash=created["payment_hash"],
        payment_secret=created["payment_secret"],
        amount_msat=AMOUNT,
        description="no hint",
        created_at=int(time.time()),
        expiry=HOUR,
        min_final_cltv_expiry=10,
    )
    forged = tampered(unhinted, where="field")
    payable = load_invoice(PylnNode(regtest.socket_path), forged)
    assert payable.invoice.payee != regtest.alias("C") and payable.invoice.route_hints == ()
    assert any("the payee is not in the node's gossip" in warning for warning in payable.warnings)
    paid = cli("pay", forged, "--yes")
    assert paid.code == headless.EXIT_FAILED and "failed: No route" in paid.err
    sendpays.nothing_sent(created["payment_hash"])


# ---------------------------------------------------------------------------------------------------------------
# Edited routes: another amount, another end


def abc(net: Regtest, amount_msat: int, final_cltv: int = 10) -> Route:
    return recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), amount_msat, final_cltv, net.policies)


def test_a_route_that_delivers_another_amount_is_flagged_and_cannot_be_launched(
    net: Regtest, sendpays: Counted
) -> None:
    created = issue(net.sim)
    payable = load_invoice(net.node, created["bolt11"])
    target = PaymentTarget.from_invoice(payable)
    editor = RouteEditor(net.policies, our_id=net.us, payee=net.C, amount_msat=AMOUNT, final_cltv=10, finder=net.finder)
    for wrong in (AMOUNT - 1, AMOUNT + 1_000):
        imported = abc(net, wrong)  # as a pasted route, or one edited by hand, can deliver
        check = editor.check(imported)
        assert check.kinds() == {"amount"}
        assert (
            f"the route delivers {wrong // SAT}" in check.messages[0]
            and "the invoice asks 50000sat" in check.messages[0]
        )
        edited = editor.insert_hop(imported, 1, net.E)  # an edit keeps the route's own (wrong) amount
        assert edited.route.amount_msat == wrong and "amount" in edited.check.kinds()
        with pytest.raises(PlanError, match="add up to"):  # its one part delivers what the route does
            single(target, edited.route)
        good = single(target, abc(net, AMOUNT))
        with pytest.raises(PlanError, match="the route delivers"):  # a part's route swapped for it
            good.with_route(good.parts[0].partid, imported)
        with pytest.raises(PlanError, match="add up to"):
            PaymentPlan(target, (PlannedPart(1, wrong, imported),))
    sendpays.nothing_sent(created["payment_hash"])


def test_a_route_that_ends_elsewhere_than_the_payee_is_flagged_and_cannot_be_launched(
    net: Regtest, sendpays: Counted
) -> None:
    created = issue(net.sim)
    payable = load_invoice(net.node, created["bolt11"])
    to_b = recompute(net.path("A", ("103x1x0", "B")), AMOUNT, 10, net.policies)
    check = check_route(to_b, net.policies, our_id=net.us, payee=net.C, amount_msat=AMOUNT, final_cltv=10)
    assert check.kinds() == {"payee"} and check.messages == ["the route ends at B, not at the payee C"]
    with pytest.raises(PlanError, match="not at the payee"):
        single(PaymentTarget.from_invoice(payable), to_b)
    sendpays.nothing_sent(created["payment_hash"])


# ---------------------------------------------------------------------------------------------------------------
# The same refusals on screen


def chosen(seen: list[Message]) -> list[InvoiceChosen]:
    return list({id(message): message for message in seen if isinstance(message, InvoiceChosen)}.values())


async def paste(pilot: Pilot[Any], screen: InvoiceScreen, text: str) -> str:
    """Paste ``text`` into the invoice field and return what the screen says is wrong."""
    screen.invoice_input.focus()
    screen.invoice_input.post_message(events.Paste(text))
    await pilot.pause()
    await wait_until(pilot, lambda: not screen.checking)
    await pilot.pause()
    return str(screen.problems_box.render()) if screen.problems_box.display else ""


@in_event_loop
async def test_the_invoice_screen_refuses_them_and_goes_no_further(regtest: RunningSim, sendpays: Counted) -> None:
    created = issue(regtest)
    expired = issued_at(regtest, time.time() - 2 * HOUR, expiry=HOUR)
    cases = [
        (expired["bolt11"], "the invoice expired"),
        (resigned(regtest, created, "bc"), "this is a bitcoin invoice (lnbc...), but the node runs on regtest"),
        (tampered(naming_its_payee(regtest, created), where="field"), "the signature does not match the payee"),
        (tampered(created["bolt11"], where="signature"), "the signature cannot be verified"),
    ]
    seen: list[Message] = []
    notified: list[str] = []
    app = app_for(regtest, now=time.time())
    async with app.run_test(size=(100, 32), message_hook=seen.append) as pilot:
        app.notify = lambda message, **_: notified.append(str(message))  # type: ignore[method-assign]
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceScreen))
        screen = app.screen
        assert isinstance(screen, InvoiceScreen)
        for text, reason in cases:
            shown = await paste(pilot, screen, text)
            assert reason in shown, (reason, shown)
            assert not screen.route_ready
            await pilot.press("escape", "ctrl+r")  # Find route: refused with the reason, no route editor
            await pilot.pause()
            assert notified and reason in notified[-1]
        assert chosen(seen) == [] and isinstance(app.screen, InvoiceScreen)
    sendpays.nothing_sent(created["payment_hash"], expired["payment_hash"])


async def open_route(pilot: Pilot[Any], screen: RouteScreen) -> RouteScreen:
    await pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: screen.route is not None and screen.our_id is not None)
    await settle(pilot)
    return screen


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await workers_done(pilot, "route")
    await pilot.pause()


async def import_route(pilot: Pilot[Any], screen: RouteScreen, route: Route) -> str:
    """Paste ``route`` as sendpay JSON into the import dialog; the route screen's verdict."""
    await pilot.press("m")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ImportRouteDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, ImportRouteDialog)
    dialog.json_area.text = json.dumps(json.loads(route_to_json(route)), indent=2)
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert pilot.app.screen is screen
    return str(screen.status.render())


@in_event_loop
async def test_the_route_screen_will_not_pay_a_route_of_another_amount_or_end(net: Regtest, sendpays: Counted) -> None:
    created = issue(net.sim)
    payable = load_invoice(net.node, created["bolt11"])
    assert payable.ok
    seen: list[Message] = []
    app = app_for(net.sim, now=time.time())
    async with app.run_test(size=(120, 32), message_hook=seen.append) as pilot:
        screen = await open_route(pilot, RouteScreen(payable))
        cases = [
            (abc(net, AMOUNT - 1), "the route delivers 49999.999sat, the invoice asks 50000sat"),
            (
                recompute(net.path("A", ("103x1x0", "B")), AMOUNT, 10, net.policies),
                "the route ends at B, not at the payee C",
            ),
        ]
        for route, problem in cases:
            verdict = await import_route(pilot, screen, route)
            assert verdict == "Route imported: 1 problem, marked in the table.", verdict
            assert screen.check is not None and problem in screen.check.messages
            await pilot.press("p")
            await pilot.pause()
            status = str(screen.status.render())
            assert status.startswith("Not paying: The route has problems:") and problem in status, status
            assert not isinstance(app.screen, ConfirmDialog)
        assert [message for message in seen if isinstance(message, PayRequested)] == []
    sendpays.nothing_sent(created["payment_hash"])


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@in_event_loop
async def test_the_route_and_split_screens_say_the_delay_warning_and_refuse_once_expired(
    net: Regtest, sendpays: Counted
) -> None:
    created = issue(net.sim, expiry=HOUR)
    payable = load_invoice(net.node, created["bolt11"])
    assert payable.ok
    clock = Clock(payable.invoice.created_at + 60)
    seen: list[Message] = []
    app = app_for(net.sim, now=clock)
    async with app.run_test(size=(120, 32), message_hook=seen.append) as pilot:
        screen = await open_route(pilot, RouteScreen(payable))
        status = str(screen.status.render())
        assert status.startswith("Route found: the route checks out, but the invoice expires in 59 min, sooner than")
        assert "worst-case delay (16 blocks, ~2 h 40 min)" in status

        clock.now = payable.invoice.expires_at + 120  # the payer left the route on screen for an hour
        await pilot.press("p")
        await pilot.pause()
        assert str(screen.status.render()) == "Not paying: The invoice expired 2 min ago: ask the payee for a new one."

        split = SplitScreen(payable, screen.route)
        await app.push_screen(split)
        await wait_until(pilot, lambda: split.plan is not None and not split._planning)
        await pilot.press("p")
        await pilot.pause()
        said = str(split.status_line.render())
        assert said == "Not paying: the invoice expired 2 min ago: ask the payee for a new one.", said
        assert not isinstance(app.screen, ConfirmDialog)
        assert [message for message in seen if isinstance(message, PayRequested)] == []
    sendpays.nothing_sent(created["payment_hash"])
