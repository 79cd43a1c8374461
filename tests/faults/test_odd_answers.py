"""Node answers that are not what the console expects (issue 6): fields missing, of the wrong type, or unknown;
error codes nobody documented, JSON-RPC errors without data, an old CLN without ``decode`` (or without
``decodepay`` too), without ``getroutes``; ``listsendpays`` without ``status``, ``waitsendpay`` and ``sendpay``
answering garbage.

The oddities are injected below pyln-client's ``LightningRpc.call`` (:class:`OddNode`), so the console's own
reading of the answer (:class:`lnconsole.node.PylnNode`) is what is tested: every answer it cannot use becomes
one :class:`lnconsole.node.UnexpectedAnswer` (a NodeError) saying "unexpected answer from lightningd: <command>:
<what>", never a KeyError or TypeError; the engine and the screens show it as such and keep working: the next
action, with the node answering normally again, works. Every oddity injected is counted in the faults tally.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyln.client import LightningRpc, RpcError
from textual import events
from textual.pilot import Pilot

from lnconsole import headless
from lnconsole.cli import main
from lnconsole.invoice import load_invoice
from lnconsole.node import METHOD_NOT_FOUND, NodeError, PylnNode, RoutingFailure, UnexpectedAnswer
from lnconsole.payment import NodeUnreachableEvent, PartComplete, PartFailed, PartProblem, PaymentComplete
from lnconsole.plan import single_routed
from lnconsole.routing import RouteFinder, RouteNotFound
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.split import SplitScreen
from tests.conftest import RunningSim
from tests.engine.helpers import Payer
from tests.faults.helpers import TALLY, check_parts
from tests.ui.helpers import app_for, in_event_loop, started, wait_until, workers_done

SAT = 1000

Rule = Callable[[str, dict[str, Any], Callable[[], Any]], Any]
"""``rule(method, params, real)``: what the odd node answers; ``real()`` asks the simulator for the real answer."""


class _OddRpc:
    """A LightningRpc whose chosen commands answer what a rule says (it may ask the real node first)."""

    def __init__(self, real: LightningRpc, node: OddNode) -> None:
        self.real = real
        self.node = node

    def call(self, method: str, payload: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        rule = self.node.rule_for(method)
        if rule is None:
            return self.real.call(method, payload, *args, **kwargs)
        return rule(method, payload or {}, lambda: self.real.call(method, payload, *args, **kwargs))


class OddNode(PylnNode):
    """A PylnNode over the simulator whose chosen commands answer oddly: ``odd(method, rule, times=N)``."""

    def __init__(self, socket_path: Any) -> None:
        super().__init__(socket_path)
        self.rules: dict[str, tuple[Rule, int | None]] = {}
        self.injected = 0

    def odd(self, method: str, rule: Rule, times: int | None = None) -> OddNode:
        """Answer ``method`` by ``rule`` (the next ``times`` calls, or until :meth:`heal`)."""
        self.rules[method] = (rule, times)
        return self

    def heal(self) -> None:
        self.rules.clear()

    def rule_for(self, method: str) -> Rule | None:
        found = self.rules.get(method)
        if found is None:
            return None
        rule, times = found
        if times is not None:
            if times <= 1:
                del self.rules[method]
            else:
                self.rules[method] = (rule, times - 1)
        self.injected += 1
        TALLY.fault("odd node answer")
        return rule

    def _rpc(self) -> Any:
        return _OddRpc(super()._rpc(), self)


# Rules ----------------------------------------------------------------------------------------------------------


def edited(change: Callable[[Any], Any]) -> Rule:
    """The real answer, edited in place by ``change`` (what it returns is ignored)."""

    def rule(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
        answer = copy.deepcopy(real())
        change(answer)
        return answer

    return rule


def answered(value: Any) -> Rule:
    """This answer, whatever was asked (the real node is not asked)."""

    def rule(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
        return copy.deepcopy(value)

    rule.is_rule = True  # type: ignore[attr-defined]
    return rule


def failing(error: Any) -> Rule:
    """A JSON-RPC error object (any shape) instead of an answer."""

    def rule(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
        raise RpcError(method, params, copy.deepcopy(error))

    return rule


def in_turn(*rules: Rule) -> Rule:
    """Each rule once, in order; then the real answers."""
    left = list(rules)

    def rule(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
        return left.pop(0)(method, params, real) if left else real()

    return rule


def unknown_command(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
    raise RpcError(method, params, {"code": METHOD_NOT_FOUND, "message": f"Unknown command '{method}'"})


def after_real(value: Any) -> Rule:
    """Ask the real node (so it acts), then answer ``value`` instead of what it said."""

    def rule(method: str, params: dict[str, Any], real: Callable[[], Any]) -> Any:
        real()
        return copy.deepcopy(value)

    return rule


@pytest.fixture
def node(regtest: RunningSim) -> OddNode:
    return OddNode(regtest.socket_path)


@pytest.fixture
def payer(regtest: RunningSim) -> Iterator[Payer]:
    payer = Payer(regtest)
    yield payer
    payer.stop()


def issue(sim: RunningSim, amount_msat: int = 50_000 * SAT, **extra: Any) -> dict[str, Any]:
    return sim.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": amount_msat, **extra})


def first(key: str, change: Callable[[dict[str, Any]], Any]) -> Callable[[Any], None]:
    """Change the first entry of the answer's ``key`` list."""
    return lambda answer: change(answer[key][0])


# ---------------------------------------------------------------------------------------------------------------
# Missing fields, wrong types: one error type, naming the command and the field


def _call(node: OddNode, sim: RunningSim, method: str) -> Any:
    """The console's typed call for ``method``."""
    c = sim.alias("C")
    if method == "getinfo":
        return node.getinfo()
    if method == "listpeerchannels":
        return node.listpeerchannels()
    if method == "listchannels":
        return node.listchannels(short_channel_id="103x1x0")
    if method == "listnodes":
        return node.listnodes(c)
    if method == "getroutes":
        info = node.getinfo()
        return node.getroutes(info.id, c, 1000, layers=[], maxfee_msat=1000, final_cltv=10)
    if method == "getroute":
        return node.getroute(c, 1000)
    if method == "askrene-listlayers":
        return node.list_layer_names()
    if method == "listsendpays":
        return node.listsendpays()
    raise AssertionError(method)


ODD_FIELDS = [
    ("getinfo", lambda a: a.pop("id"), "id is missing"),
    ("getinfo", lambda a: a.update(id=5), "id is the number 5, not a node id"),
    ("getinfo", lambda a: a.update(id="02" + "zz" * 32), "id is a long string, not a node id"),
    (
        "getinfo",
        lambda a: a.update(blockheight="103"),
        "blockheight is the string '103', not a whole number of at least 0",
    ),
    ("getinfo", lambda a: a.update(network=["regtest"]), "network is a list, not a string"),
    ("getinfo", answered(["not", "an", "object"]), "the result is a list, not an object"),
    ("listpeerchannels", first("channels", lambda c: c.pop("peer_id")), "channels[0].peer_id is missing"),
    (
        "listpeerchannels",
        first("channels", lambda c: c.update(spendable_msat="lots")),
        "channels[0].spendable_msat is the string 'lots', not an amount in msat",
    ),
    (
        "listpeerchannels",
        first("channels", lambda c: c.update(peer_connected="yes")),
        "channels[0].peer_connected is the string 'yes', not true or false",
    ),
    (
        "listpeerchannels",
        first("channels", lambda c: c["updates"]["local"].update(cltv_expiry_delta=-6)),
        "channels[0].updates.local.cltv_expiry_delta is the number -6, not a whole number of at least 0",
    ),
    ("listpeerchannels", lambda a: a.update(channels={}), "channels is an object, not a list"),
    (
        "listchannels",
        first("channels", lambda c: c.update(direction=2)),
        "channels[0].direction is the number 2, not 0 or 1",
    ),
    ("listchannels", first("channels", lambda c: c.pop("source")), "channels[0].source is missing"),
    ("listchannels", lambda a: a.pop("channels"), "channels is missing"),
    ("listnodes", lambda a: a.update(nodes=["x"]), "nodes[0] is the string 'x', not an object"),
    ("getroutes", lambda a: a.pop("routes"), "routes is missing"),
    (
        "getroutes",
        first("routes", lambda r: r["path"][0].update(short_channel_id_dir="103x1x0")),
        "routes[0].path[0].short_channel_id_dir is the string '103x1x0', not a short_channel_id/direction",
    ),
    (
        "getroutes",
        first("routes", lambda r: r.update(amount_msat=1.5)),
        "routes[0].amount_msat is the number 1.5, not an amount in msat",
    ),
    (
        "getroute",
        first("route", lambda h: h.update(delay=-1)),
        "route[0].delay is the number -1, not a whole number of at least 0",
    ),
    ("getroute", first("route", lambda h: h.pop("channel")), "route[0].channel is missing"),
    ("askrene-listlayers", lambda a: a.update(layers=[{"name": "x"}]), "layers[0].layer is missing"),
]


@pytest.mark.parametrize(("method", "change", "what"), ODD_FIELDS, ids=[what for _, _, what in ODD_FIELDS])
def test_an_answer_missing_a_field_or_of_the_wrong_type_is_an_unexpected_answer(
    regtest: RunningSim, node: OddNode, method: str, change: Callable[[Any], Any], what: str
) -> None:
    if method == "askrene-listlayers":
        regtest.rpc.call("askrene-create-layer", {"layer": "x"})
    assert _call(PylnNode(regtest.socket_path), regtest, method) is not None  # answered well, it reads
    node.odd(method, change if getattr(change, "is_rule", False) else edited(change))
    with pytest.raises(UnexpectedAnswer) as caught:
        _call(node, regtest, method)
    error = caught.value
    assert isinstance(error, NodeError) and error.method == method and error.code is None
    assert error.message == f"unexpected answer from lightningd: {method}: {what}"
    assert node.injected == 1


EXTRA = {"x-future-field": {"nested": [1, "two", None]}, "another": 3.5}


def test_extra_unknown_fields_are_ignored(regtest: RunningSim, node: OddNode) -> None:
    plain = PylnNode(regtest.socket_path)
    expected = {
        method: _call(plain, regtest, method)
        for method in ("getinfo", "listpeerchannels", "listchannels", "listnodes", "getroutes", "getroute")
    }

    def extra(answer: Any) -> None:
        answer.update(EXTRA)
        for value in answer.values():
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict):
                    item.update(EXTRA)

    for method in expected:
        node.odd(method, edited(extra))
    assert {method: _call(node, regtest, method) for method in expected} == expected
    assert node.injected == len(expected) + 1  # getroutes asks getinfo first


# ---------------------------------------------------------------------------------------------------------------
# Errors: unknown codes, no data, odd shapes


def test_unknown_error_codes_and_errors_of_any_shape_are_node_errors(regtest: RunningSim, node: OddNode) -> None:
    shapes = [
        (
            {"code": 1234, "message": "flux capacitor overheated", "data": {"weird": [1, 2]}},
            1234,
            "flux capacitor overheated",
        ),
        ({"code": 1234, "message": "no data at all"}, 1234, "no data at all"),
        ({"code": "204", "message": "a code that is text"}, None, "a code that is text (code '204')"),
        ({"code": 204, "message": "data is a string", "data": "oops"}, 204, "data is a string"),
        ({"message": "no code"}, None, "no code"),
        ({"code": 1234}, 1234, "lightningd gave no message"),
        ({"code": 1234, "message": {"nested": "message"}}, 1234, "{'nested': 'message'}"),
        ("a bare string", None, "a bare string"),
    ]
    for error, code, message in shapes:
        node.odd("listnodes", failing(error))
        with pytest.raises(NodeError) as caught:
            node.listnodes(regtest.alias("C"))
        assert not isinstance(caught.value, UnexpectedAnswer)
        assert (caught.value.code, caught.value.message) == (code, message)
        assert caught.value.data is None or isinstance(caught.value.data, dict)
    # The finder says the node's words and code; an invoice still loads (the node's decode is only a cross-check).
    node.odd("getroutes", failing(shapes[0][0]))
    with pytest.raises(RouteNotFound) as found:
        RouteFinder(node, node.getinfo().id).find(regtest.alias("C"), 1000, final_cltv=10)
    assert (found.value.reason, found.value.code) == ("flux capacitor overheated", 1234)
    node.odd("decode", failing(shapes[1][0]))
    payable = load_invoice(node, issue(regtest)["bolt11"])
    assert payable.ok and "the node could not decode it: no data at all" in payable.warnings


@pytest.mark.parametrize(
    "data",
    [None, "a string", [1, 2], {"erring_index": "one", "failcode": "4103", "erring_node": 7}, {"payment_hash": 5}],
)
def test_routing_failure_data_of_any_shape_is_read_without_raising(data: Any) -> None:
    failure = RoutingFailure.from_data(data)
    assert failure.erring_index is None and failure.failcode is None and failure.erring_node is None
    assert failure.payment is None


# ---------------------------------------------------------------------------------------------------------------
# Older nodes: no decode (decodepay), neither; no getroutes (getroute)


def test_a_node_without_decode_is_asked_decodepay_and_one_without_either_is_a_warning(
    regtest: RunningSim, node: OddNode
) -> None:
    bolt11 = issue(regtest)["bolt11"]
    real = PylnNode(regtest.socket_path).decode(bolt11)
    node.odd("decode", unknown_command).odd("decodepay", answered(real))
    payable = load_invoice(node, bolt11)
    assert payable.ok and payable.node_decode == real and node.capabilities.decode is False
    assert payable.warnings == ()

    neither = OddNode(regtest.socket_path).odd("decode", unknown_command).odd("decodepay", unknown_command)
    payable = load_invoice(neither, bolt11)
    assert payable.ok and payable.node_decode is None and payable.decoded_by == "console"
    assert "the node has neither decode nor decodepay: the invoice was not checked by the node" in payable.warnings


def test_a_node_without_getroutes_is_asked_getroute(regtest: RunningSim, node: OddNode) -> None:
    node.odd("getroutes", unknown_command)
    finder = RouteFinder(node, node.getinfo().id)
    [route] = finder.find(regtest.alias("C"), 10_000 * SAT, final_cltv=10)
    assert not finder.uses_getroutes and route.destination == regtest.alias("C") and route.amount_msat == 10_000 * SAT
    plain = PylnNode(regtest.socket_path)
    [expected] = RouteFinder(plain, plain.getinfo().id).find(regtest.alias("C"), 10_000 * SAT, final_cltv=10)
    assert [hop.node_id for hop in route.hops][-1] == expected.destination
    node.odd("getroute", unknown_command)
    with pytest.raises(RouteNotFound, match="neither getroutes nor getroute"):
        RouteFinder(node, node.getinfo().id).find(regtest.alias("C"), 10_000 * SAT, final_cltv=10)


# ---------------------------------------------------------------------------------------------------------------
# Payments: listsendpays without status, waitsendpay and sendpay answering garbage


def _without_status(answer: dict[str, Any]) -> None:
    for payment in answer["payments"]:
        payment.pop("status", None)


def test_listsendpays_without_status_stops_pay_and_history_with_a_message(
    regtest: RunningSim, node: OddNode, payer: Payer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = payer.invoice(10_000 * SAT)
    session, events = payer.session(target)
    plan = single_routed(target, payer.finder)
    session.launch(plan)
    events.wait_for(PaymentComplete)
    paid = {(session.groupid, part.partid) for part in plan.parts}
    node.odd("listsendpays", edited(_without_status))
    monkeypatch.setattr(headless.Connection, "connect", lambda self: node)

    out, err = io.StringIO(), io.StringIO()
    terminal = headless.Terminal(out, err, io.StringIO(""), is_tty=False)
    options = headless.PlanOptions()
    code = headless.run(
        lambda: headless.pay(
            headless.Connection(),
            target.bolt11 or "",  # paid already: pay asks the node what it has first
            options,
            headless.PayOptions(yes=True),
            as_json=False,
            terminal=terminal,
        ),
        as_json=False,
        terminal=terminal,
    )
    said = "unexpected answer from lightningd: listsendpays: payments[0].status is missing"
    assert code == headless.EXIT_FAILED and err.getvalue() == f"lnconsole: listsendpays failed: {said}\n"
    code = headless.run(
        lambda: headless.history(headless.Connection(), status=None, limit=5, as_json=False, terminal=terminal),
        as_json=False,
        terminal=terminal,
    )
    assert code == headless.EXIT_FAILED and err.getvalue().endswith(f"lnconsole: listsendpays failed: {said}\n")
    check_parts(PylnNode(regtest.socket_path).listsendpays(payment_hash=target.payment_hash), expected=paid)

    node.heal()  # the next action works
    assert (
        headless.run(
            lambda: headless.history(headless.Connection(), status=None, limit=5, as_json=False, terminal=terminal),
            as_json=False,
            terminal=terminal,
        )
        == headless.EXIT_OK
    )


def test_waitsendpay_answering_garbage_is_a_problem_shown_and_the_part_is_still_followed(
    regtest: RunningSim, node: OddNode, payer: Payer
) -> None:
    target = payer.invoice(10_000 * SAT)
    strange = {"code": 1234, "message": "flux capacitor overheated", "data": {"weird": [1, 2]}}
    garbage = {"id": 7, "what": "garbage"}
    node.odd(
        "waitsendpay", in_turn(failing(strange), failing({"code": 1234}), answered(garbage), answered([])), times=4
    )
    session, events = payer.session(target, node=node)
    plan = single_routed(target, payer.finder)
    session.launch(plan)
    done = events.wait_for(PaymentComplete)
    assert done.parts == 1 and events.of(PartFailed) == []
    problems = [(event.code, event.message) for event in events.of(PartProblem)]
    assert problems == [
        (1234, "flux capacitor overheated"),
        (1234, "lightningd gave no message"),
        (None, "unexpected answer from lightningd: waitsendpay: payment_hash is missing"),
        (None, "unexpected answer from lightningd: waitsendpay: the result is a list, not an object"),
    ]
    check_parts(
        payer.records(target.payment_hash),
        expected={(session.groupid, part.partid) for part in plan.parts},
        amount_msat=target.amount_msat,
    )


def test_sendpay_answering_garbage_is_not_sent_again_but_asked_about(
    regtest: RunningSim, node: OddNode, payer: Payer
) -> None:
    """sendpay acted, then answered something unreadable: the part may be on the node, so it is not sent again;
    the node is asked (listsendpays) and the part is followed to its end."""
    target = payer.invoice(10_000 * SAT)
    node.odd("sendpay", after_real(["not", "an", "object"]), times=1)
    session, events = payer.session(target, node=node)
    plan = single_routed(target, payer.finder)
    session.launch(plan)
    lost = events.wait_for(NodeUnreachableEvent)
    assert lost.message.startswith("unexpected answer from lightningd: sendpay: the result is a list, not an object")
    assert "may or may not have been sent" in lost.message
    events.wait_for(PartComplete)
    events.wait_for(PaymentComplete)
    check_parts(
        payer.records(target.payment_hash),
        expected={(session.groupid, part.partid) for part in plan.parts},
        amount_msat=target.amount_msat,
    )


# ---------------------------------------------------------------------------------------------------------------
# On screen: said as such, and the next action works


async def paste(pilot: Pilot[Any], screen: InvoiceScreen, text: str) -> None:
    screen.invoice_input.focus()
    screen.invoice_input.post_message(events.Paste(text))
    await pilot.pause()
    await wait_until(pilot, lambda: not screen.checking)
    await pilot.pause()


@in_event_loop
async def test_the_invoice_screen_says_the_answer_was_unexpected_and_the_next_paste_works(
    regtest: RunningSim, node: OddNode
) -> None:
    bolt11 = issue(regtest)["bolt11"]
    app = app_for(regtest, node=node, now=time.time())
    notified: list[tuple[str, str]] = []
    async with app.run_test(size=(100, 32)) as pilot:
        app.notify = lambda message, **options: notified.append((options.get("title", ""), message))  # type: ignore[method-assign]
        await started(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceScreen)
        node.odd("getinfo", edited(lambda answer: answer.pop("id")), times=1)
        await paste(pilot, screen, bolt11)
        said = str(screen.problems_box.render())
        assert said == (
            "The node's answer could not be used, so the invoice was not checked (getinfo: unexpected answer from "
            "lightningd: getinfo: id is missing). Press Enter in the invoice field to try again."
        )
        assert screen.payable is None and not screen.route_ready

        node.odd("listnodes", answered({"nodes": "many"}), times=1)  # the payee's alias: only a label
        await pilot.press("enter")  # the same text again: checked anew
        await pilot.pause()
        await wait_until(pilot, lambda: not screen.checking)
        await pilot.pause()
        assert screen.payable is not None and screen.payable.ok and screen.route_ready
        assert "Ready to pay 50,000 sat" in str(screen.status_line.render())
    assert [title for title, _ in notified if title in ("Unexpected error",)] == []


@in_event_loop
async def test_the_route_screen_says_the_finder_answered_oddly_and_finds_again(
    regtest: RunningSim, node: OddNode
) -> None:
    payable = load_invoice(PylnNode(regtest.socket_path), issue(regtest)["bolt11"])
    assert payable.ok
    app = app_for(regtest, node=node, now=time.time())
    notified: list[tuple[str, str]] = []
    async with app.run_test(size=(120, 32)) as pilot:
        app.notify = lambda message, **options: notified.append((options.get("title", ""), message))  # type: ignore[method-assign]
        await started(pilot)
        node.odd("getroutes", edited(lambda answer: answer["routes"][0].pop("path")))
        screen = RouteScreen(payable)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen._busy_with is None and "No route" in str(screen.status.render()))
        said = str(screen.status.render())
        assert said == "No route: unexpected answer from lightningd: getroutes: routes[0].path is missing.", said
        assert screen.route is None

        node.heal()
        await pilot.press("f")
        await pilot.pause()
        await workers_done(pilot, "route")
        await pilot.pause()
        assert screen.route is not None and screen.check is not None and screen.check.ok
        assert str(screen.status.render()).startswith("Route found: the route checks out")
    assert [title for title, _ in notified if title == "Unexpected error"] == []
    assert ("No route", "unexpected answer from lightningd: getroutes: routes[0].path is missing") in notified


# ---------------------------------------------------------------------------------------------------------------
# Text others wrote, with escape sequences in it


SNEAKY = "pay me \x1b]52;c;bG5iYzEwMDA=\x1b\\ now\x1b[2J\u202e01\u202c"
"""An OSC 52 (sets the clipboard: a payee's invoice in place of the one copied), a screen clear, a bidi override."""
SHOWN = "pay me \\x1b]52;c;bG5iYzEwMDA=\\x1b\\ now\\x1b[2J\\u202e01\\u202c"


def test_escape_sequences_in_descriptions_aliases_and_errors_are_shown_not_obeyed(
    regtest: RunningSim, node: OddNode, capsys: pytest.CaptureFixture[str]
) -> None:
    created = issue(regtest, description=SNEAKY)
    assert load_invoice(PylnNode(regtest.socket_path), created["bolt11"]).invoice.description == SHOWN
    node.odd("listnodes", edited(lambda answer: answer["nodes"][0].update(alias=SNEAKY)))
    assert node.listnodes(regtest.alias("C"))[0].alias == SHOWN
    node.odd("getinfo", edited(lambda answer: answer.update(alias=SNEAKY)))
    assert node.getinfo().alias == SHOWN
    node.odd("listnodes", failing({"code": 1234, "message": SNEAKY}))
    with pytest.raises(NodeError) as caught:
        node.listnodes(regtest.alias("C"))
    assert caught.value.message == SHOWN

    assert main(["decode", created["bolt11"], "--rpc-file", str(regtest.socket_path)]) == headless.EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and f"description     {SHOWN}" in out


@in_event_loop
async def test_the_invoice_screen_shows_an_escape_laden_description_as_text(regtest: RunningSim) -> None:
    created = issue(regtest, description=SNEAKY)
    app = app_for(regtest, now=time.time())
    async with app.run_test(size=(120, 32)) as pilot:
        await started(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceScreen)
        await paste(pilot, screen, created["bolt11"])
        assert screen.payable is not None and screen.payable.ok
        shown = screen.details.text_of("description")
        assert shown == SHOWN and "\x1b" not in shown


@in_event_loop
async def test_the_split_screen_says_the_node_answered_oddly_and_plans_again(
    regtest: RunningSim, node: OddNode
) -> None:
    payable = load_invoice(PylnNode(regtest.socket_path), issue(regtest, 540_000 * SAT)["bolt11"])
    assert payable.ok
    app = app_for(regtest, node=node, now=time.time())
    async with app.run_test(size=(100, 32)) as pilot:
        await started(pilot)
        node.odd("getroutes", edited(lambda answer: answer.update(routes=[{"amount_msat": "lots", "path": []}])))
        split = SplitScreen(payable)
        await app.push_screen(split)
        await wait_until(pilot, lambda: not split._planning and "No plan" in str(split.status_line.render()))
        said = str(split.status_line.render())
        assert said == (
            "No plan for the liquidity plan (up to 3 parts): No route for 540000sat: unexpected answer from "
            "lightningd: getroutes: routes[0].amount_msat is the string 'lots', not an amount in msat."
        ), said
        assert split.plan is None

        node.heal()
        await pilot.press("f")  # plan again
        await pilot.pause()
        await wait_until(pilot, lambda: not split._planning)
        assert split.plan is not None and split.plan.amount_msat == 540_000 * SAT
