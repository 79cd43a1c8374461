"""The invoice screen against the simulated node over its socket: paste, read, refuse, amount, route, QR, copy.

Invoices are issued by the simulated payees (``dev-sim-invoice``) with the simulator's clock pinned to
``CREATED``; the console's clock is pinned a little later, so countdowns and expiries are exact.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_L
from textual import events
from textual.message import Message
from textual.pilot import Pilot
from textual.screen import Screen

from lnconsole.app import DemoInfo, LnConsoleApp
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.messages import InvoiceChosen
from lnconsole.sim.demo_stories import DEMO_PAYEES, DEMO_STORIES
from lnconsole.widgets.qr import MODULE_STYLE, QUIET_ZONE, cells_to_matrix, invoice_qr_payload
from tests.conftest import RunningSim
from tests.ui.helpers import app_for, in_event_loop, issue, wait_until

CREATED = 1_700_000_000
"""When the simulated payees sign their invoices."""
SEEN_AT = CREATED + 100
"""The console's pinned clock: 100 s after the invoices were made."""


class Clock:
    """A console clock the test moves by hand."""

    def __init__(self, now: float = SEEN_AT) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def stand_in_route_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app opens the route editor on InvoiceChosen; these tests assert on the message, so a blank screen
    stands in for the editor (whether or not the real one exists yet)."""
    module = types.ModuleType("lnconsole.screens.route")
    module.RouteScreen = type("RouteScreen", (Screen,), {"__init__": lambda self, *_: Screen.__init__(self)})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lnconsole.screens.route", module)


@pytest.fixture
def regtest_sim(start_sim: Callable[..., RunningSim]) -> RunningSim:
    sim = start_sim("regtest")
    sim.node.clock = lambda: CREATED
    return sim


@pytest.fixture
def demo_sim(start_sim: Callable[..., RunningSim]) -> RunningSim:
    sim = start_sim("demo")
    sim.node.clock = lambda: CREATED
    return sim


def demo_info() -> DemoInfo:
    return DemoInfo(
        payees=dict(DEMO_PAYEES), stories={story.payee: f"{story.title}: {story.text}" for story in DEMO_STORIES}
    )


def invoice_screen(app: LnConsoleApp) -> InvoiceScreen:
    screen = app.screen
    assert isinstance(screen, InvoiceScreen), screen
    return screen


async def paste(pilot: Pilot[Any], text: str) -> InvoiceScreen:
    """Paste ``text`` into the invoice field (as a terminal's bracketed paste) and wait for the verdict."""
    screen = invoice_screen(pilot.app)  # type: ignore[arg-type]
    screen.invoice_input.focus()
    screen.invoice_input.post_message(events.Paste(text))
    await pilot.pause()
    await wait_until(pilot, lambda: not screen.checking)
    return screen


def chosen(seen: list[Message]) -> list[InvoiceChosen]:
    """Each InvoiceChosen posted (the hook sees a message at every node it bubbles through)."""
    unique = {id(message): message for message in seen if isinstance(message, InvoiceChosen)}
    return list(unique.values())


# ---------------------------------------------------------------------------------------------------------------


@in_event_loop
async def test_pasted_invoice_is_laid_out_for_the_payer_with_a_live_countdown(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim, "C", 50_000_123, description="two [b]coffees[/b]", expiry=3600)
    clock = Clock()
    async with app_for(regtest_sim, now=clock).run_test(size=(120, 40)) as pilot:
        # pasted as a lightning: URI broken over lines, as chat apps do
        text = "lightning:" + created["bolt11"][:90] + "\n" + created["bolt11"][90:]
        screen = await paste(pilot, text)
        details = screen.details
        assert screen.payable is not None and screen.payable.ok
        assert details.display and not screen.problems_box.display
        payee = details.text_of("payee")
        assert payee.startswith("C ") and regtest_sim.alias("C") in payee
        assert details.text_of("amount").startswith("50,000.123 sat")
        assert details.text_of("description") == "two [b]coffees[/b]"  # the payee's text, never markup
        assert details.text_of("expiry").startswith("in 58 min 20 s")
        assert details.text_of("hash") == created["payment_hash"]
        assert details.text_of("secret").startswith(created["payment_secret"][:8] + "…")
        assert "basic_mpp" in details.text_of("features")
        assert "regtest" in details.text_of("network")
        assert "they agree" in details.text_of("decoder")
        assert "Ready to pay 50,000.123 sat" in str(screen.status_line.render())
        assert not screen.amount_row.display

        clock.now += 15  # the countdown follows the clock, once a second
        await wait_until(pilot, lambda: details.text_of("expiry").startswith("in 58 min 05 s"), timeout=3)


@in_event_loop
async def test_garbage_and_tampered_text_are_refused_in_place(regtest_sim: RunningSim) -> None:
    good = issue(regtest_sim)["bolt11"]
    tampered = good[:40] + ("q" if good[40] != "q" else "p") + good[41:]
    notified: list[str] = []
    app = app_for(regtest_sim, now=SEEN_AT)
    async with app.run_test(size=(100, 32)) as pilot:
        app.notify = lambda message, **_: notified.append(message)  # type: ignore[method-assign]
        screen = await paste(pilot, "hello, this is not an invoice")
        refusal = str(screen.problems_box.render())
        assert screen.problems_box.display and screen.problems_box.has_class("problem")
        assert refusal.startswith("Not an invoice that can be paid: not a BOLT11 invoice")
        assert screen.payable is None and not screen.details.display and not screen.qr_panel.display

        screen = await paste(pilot, tampered)
        assert "bad checksum" in str(screen.problems_box.render())

        # Enter on the invoice field with nothing in it says so; the route action refuses with the reason
        screen.invoice_input.value = ""
        await pilot.press("enter")
        assert "empty" in str(screen.problems_box.render())
        await pilot.press("ctrl+r")
        assert notified and "empty" in notified[-1]
    assert all("Traceback" not in message for message in notified)


@in_event_loop
async def test_an_expired_invoice_says_expired_and_cannot_go_on(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim, expiry=1)
    seen: list[Message] = []
    async with app_for(regtest_sim, now=SEEN_AT).run_test(size=(100, 32), message_hook=seen.append) as pilot:
        screen = await paste(pilot, created["bolt11"])
        expiry = screen.details.query_one("#detail-expiry")
        assert screen.details.text_of("expiry").startswith("expired 1 min 39 s ago")
        assert expiry.has_class("problem")
        assert "the invoice expired" in str(screen.problems_box.render())
        assert not screen.route_ready
        await pilot.press("ctrl+r", "enter")
        assert chosen(seen) == []


@in_event_loop
async def test_any_amount_invoice_needs_a_valid_amount_before_the_route(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim, amount_msat="any")
    seen: list[Message] = []
    async with app_for(regtest_sim, now=SEEN_AT).run_test(size=(100, 32), message_hook=seen.append) as pilot:
        screen = await paste(pilot, created["bolt11"])
        assert screen.amount_row.display and screen.focused is screen.amount_input
        assert screen.details.text_of("amount").startswith("any amount")
        assert not screen.route_ready

        await pilot.press(*"12.5xyz")
        assert "is not an amount" in str(screen.amount_error.render())
        assert screen.amount_error.display and not screen.route_ready
        await pilot.press("enter")
        assert chosen(seen) == []

        for _ in "12.5xyz":
            await pilot.press("backspace")
        await pilot.press(*"12sat")
        assert not screen.amount_error.display
        await wait_until(pilot, lambda: screen.route_ready)
        assert screen.payable is not None and screen.payable.amount_msat == 12_000
        assert "paying 12 sat" in screen.details.text_of("amount")

        await pilot.press("enter")
        await wait_until(pilot, lambda: chosen(seen))
        assert chosen(seen)[0].invoice.amount_msat == 12_000


@in_event_loop
async def test_enter_on_a_checked_invoice_posts_invoice_chosen(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim)
    seen: list[Message] = []
    async with app_for(regtest_sim, now=SEEN_AT).run_test(size=(100, 32), message_hook=seen.append) as pilot:
        screen = await paste(pilot, created["bolt11"])
        assert screen.focused is screen.main  # off the field, so single keys act
        await pilot.press("enter")
        await wait_until(pilot, lambda: chosen(seen))
        [message] = chosen(seen)
        assert message.invoice.invoice.payment_hash == created["payment_hash"]
        assert message.invoice.amount_msat == 50_000_000


@in_event_loop
async def test_demo_payees_offer_an_invoice_from_big_merchant(demo_sim: RunningSim) -> None:
    async with app_for(demo_sim, now=SEEN_AT, demo=demo_info()).run_test(size=(100, 32)) as pilot:
        screen = invoice_screen(pilot.app)
        await wait_until(pilot, lambda: screen.demo_panel is not None and screen.demo_panel.display)
        panel = screen.demo_panel
        assert panel is not None
        options = panel.option_list
        assert "Only a split pays it" in str(options.get_option("big-merchant").prompt)
        await wait_until(pilot, lambda: pilot.app.focused is options)  # shown on first start, and focused
        options.highlighted = options.get_option_index("big-merchant")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.payable is not None and not screen.checking)
        assert screen.details.text_of("payee").startswith("big-merchant")
        assert screen.details.text_of("amount").startswith("2,000,000 sat")
        assert screen.invoice_input.value.startswith("lnbcrt20m1")
        assert screen.route_ready
        assert not panel.display

        await wait_until(pilot, lambda: screen.focused is screen.main)  # the checked invoice leaves the field
        await pilot.press("d")  # the payees again, by their key
        assert panel.display and pilot.app.focused is options
        await pilot.press("escape")
        assert pilot.app.focused is screen.invoice_input


@in_event_loop
async def test_qr_code_is_the_invoice_and_hides_when_too_small(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim)
    app = app_for(regtest_sim, now=SEEN_AT)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await paste(pilot, created["bolt11"])
        await pilot.pause()
        panel = screen.qr_panel
        code = panel.code
        assert panel.showing_code and not screen.has_class("-qr-below")
        assert code.data == invoice_qr_payload(created["bolt11"]) == "LIGHTNING:" + created["bolt11"].upper()
        assert code.region.size == code.cell_size  # drawn whole, not cropped

        drawn = code.render()
        assert drawn.style == MODULE_STYLE  # black on white whatever the theme
        reference = qrcode.QRCode(error_correction=ERROR_CORRECT_L, border=QUIET_ZONE)
        reference.add_data("LIGHTNING:" + created["bolt11"].upper())
        reference.make(fit=True)
        expected = [list(row) for row in reference.get_matrix()]
        read_back = cells_to_matrix(drawn.plain.split("\n"))
        assert read_back[: len(expected)] == expected
        assert not any(any(row) for row in read_back[len(expected) :])  # only the light padding row after it
        assert all(not dark for dark in expected[0]) and all(not row[0] for row in expected)  # quiet zone

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await wait_until(pilot, lambda: not panel.showing_code)
        assert panel.note.display and "QR code hidden" in str(panel.note.render())
        assert screen.main.max_scroll_y > 0  # the details scroll at 80x24

        screen.main.focus()
        await pilot.press("q")
        assert not panel.display
        await pilot.press("q")
        assert panel.display


@in_event_loop
async def test_copy_keys_put_the_invoice_and_the_hash_on_the_clipboard(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim)
    app = app_for(regtest_sim, now=SEEN_AT)
    copied: list[str] = []
    notified: list[str] = []
    async with app.run_test(size=(100, 32)) as pilot:
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        app.notify = lambda message, **_: notified.append(message)  # type: ignore[method-assign]
        await pilot.press("escape", "c")  # nothing to copy yet
        assert copied == [] and "paste an invoice first" in notified[-1]
        await paste(pilot, created["bolt11"])
        await pilot.press("c", "y", "s")
        assert copied == [created["bolt11"], created["payment_hash"], created["payment_secret"]]
        assert "invoice is on the clipboard" in notified[-3] and "payment hash" in notified[-2]


@in_event_loop
async def test_unreachable_node_shows_the_banner_and_a_message(regtest_sim: RunningSim) -> None:
    created = issue(regtest_sim)
    app = app_for(regtest_sim, now=SEEN_AT)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.status.info is not None)
        regtest_sim.socket_path.unlink()  # the node's socket is gone (lightningd stopped)
        screen = await paste(pilot, created["bolt11"])
        assert "The node cannot be reached" in str(screen.problems_box.render())
        await wait_until(pilot, lambda: not app.status.reachable)
        banner = screen.query_one("#node-banner")
        assert banner.display and "Node unreachable" in str(banner.render())
