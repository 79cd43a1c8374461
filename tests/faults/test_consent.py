"""Nothing is sent without consent: in the app, no sendpay before the confirmation dialog's ``y`` (or its Send
button), whatever path leads to it; headless, no sendpay without ``--yes`` or a typed ``yes`` on a terminal.

The app's paths to a payment are driven one by one (Enter on the invoice, ``p`` on the route editor and on the
split planner, the command palette's Pay on both), and each dialog is closed every way that must send nothing
(Enter on the focused Cancel, Escape, ``n``, a click on Cancel, the palette's Cancel): the node's
``listsendpays`` stays empty until ``y``. After a failed part, a retry is an explicit key (``r``, or ``e`` and
the route editor's "Use this route"): leaving the editor sends nothing, and nothing is retried by itself.

Headless answers that are not exactly ``yes`` send nothing: an empty line, ``y``, ``YES ``, ``Yes``, EOF, a
closed stdin, Ctrl-C, a piped ``yes`` (no terminal); ``YES `` and EOF also on a real pseudo-terminal.
"""

from __future__ import annotations

import io
import os
import pty
import sys
from collections.abc import Callable
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from lnconsole.cli import main
from lnconsole.headless import EXIT_NOT_SENT, EXIT_OK
from lnconsole.node import PylnNode
from lnconsole.payment import PaymentComplete
from lnconsole.plan import PaymentTarget
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.palette import palette_commands
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.split import SplitScreen
from tests.conftest import RunningSim
from tests.faults.helpers import TALLY, RecordingNode, check_parts, drain_e_to_c, start_console, three_parts_one_via_e
from tests.ui.helpers import (
    SAT,
    app_for,
    in_event_loop,
    issue,
    open_confirm,
    payable,
    sent_parts,
    started,
    wait_until,
)


async def dialog_opens(pilot: Pilot[Any]) -> ConfirmDialog:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.is_mounted)
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    return dialog


async def run_from_palette(pilot: Pilot[Any], action: str) -> None:
    """Run ``action`` the way the command palette does (its entry for the current screen)."""
    app = pilot.app
    [command] = [c for c in palette_commands(app.screen, app) if c.action == action]
    await command.run()
    await pilot.pause()


@in_event_loop
async def test_no_path_sends_without_the_dialogs_yes(regtest: RunningSim) -> None:
    created = issue(regtest, "C", 100_000 * SAT, description="consent")
    payment_hash = created["payment_hash"]
    node = RecordingNode(PylnNode(regtest.socket_path))
    app = app_for(regtest, node=node)

    def nothing_sent() -> None:
        assert node.count("sendpay") == 0 and sent_parts(regtest, payment_hash) == []

    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        invoice_screen = app.screen
        assert isinstance(invoice_screen, InvoiceScreen)
        invoice_screen.invoice_input.post_message(events.Paste(created["bolt11"]))
        await wait_until(pilot, lambda: invoice_screen.payable is not None and not invoice_screen.checking)
        await pilot.press("enter")  # Enter on the checked invoice: the route editor, nothing more
        await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen) and app.screen.route is not None)
        route_screen = app.screen
        assert isinstance(route_screen, RouteScreen)
        await wait_until(pilot, lambda: route_screen._busy_with is None)
        nothing_sent()

        async def close(how: str) -> None:
            dialog = await dialog_opens(pilot)
            if how == "enter":
                assert app.focused is not None and app.focused.id == "confirm-cancel"
                await pilot.press("enter")
            elif how == "click":
                await pilot.click("#confirm-cancel")
            elif how == "palette":
                listed = [command.text for command in palette_commands(dialog, app)]
                assert listed == ["y Send", "n Cancel"]  # the dialog's keys only (Escape is Cancel too)
                await run_from_palette(pilot, "cancel")
            else:
                await pilot.press(how)
            await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            await pilot.pause(0.1)
            nothing_sent()

        for how in ("enter", "escape", "n", "click", "palette"):
            await pilot.press("p")
            await close(how)
        await run_from_palette(pilot, "pay")  # the palette's Pay on the route editor
        await close("escape")

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SplitScreen))
        split = app.screen
        assert isinstance(split, SplitScreen)
        await wait_until(pilot, lambda: split.plan is not None and not split._planning)
        split.parts_table.focus()
        await pilot.press("p")
        await close("escape")
        await run_from_palette(pilot, "pay")  # the palette's Pay on the split planner
        await close("n")
        TALLY.fault("dialog closed without sending", 8)

        await pilot.press("escape")  # back to the route editor
        await wait_until(pilot, lambda: app.screen is route_screen)
        await pilot.pause()
        await pilot.press("p")
        await dialog_opens(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen)
        await wait_until(pilot, lambda: isinstance(screen.session.outcome, PaymentComplete))
    assert node.count("sendpay") == 1
    check_parts(sent_parts(regtest, payment_hash), {(1, 1)}, amount_msat=100_000 * SAT)


@in_event_loop
async def test_a_retry_is_only_ever_an_explicit_key(regtest: RunningSim) -> None:
    """After a part fails nothing is retried by itself; ``e`` opens the route editor, and leaving it sends nothing;
    ``r`` (or the editor's "Use this route") opens the confirmation, and only its ``y`` sends the retry, once."""
    drain_e_to_c(regtest)
    invoice = payable(regtest, 300_000 * SAT)
    plan = three_parts_one_via_e(regtest, PaymentTarget.from_invoice(invoice))
    app = app_for(regtest)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen)
        await wait_until(pilot, lambda: screen.check_action("retry", ()))
        assert screen.session.retry_policy is None  # the app never retries by itself
        await pilot.pause(0.3)
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3
        assert {command.action for command in palette_commands(screen, app)} >= {"retry", "edit_retry"}

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen) and app.screen.route is not None)
        editor = app.screen
        assert isinstance(editor, RouteScreen) and editor.part == 3
        await wait_until(pilot, lambda: editor._busy_with is None)
        await pilot.press("escape")  # leave the editor: no retry
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause(0.3)
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3 and screen.check_action("retry", ())

        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.pause(0.3)
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3  # not before the confirmation's y
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(screen.session.outcome, PaymentComplete), 15)
    records = check_parts(sent_parts(regtest, plan.target.payment_hash), {(1, 1), (1, 2), (1, 3), (1, 4)})
    assert [r.status for r in records] == ["complete", "complete", "failed", "complete"]


# ---------------------------------------------------------------------------------------------------------------
# Headless


class TtyInput(io.StringIO):
    """stdin as a terminal a person types into."""

    def isatty(self) -> bool:
        return True


class Interrupted(TtyInput):
    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        raise KeyboardInterrupt


def closed_stdin() -> TtyInput:
    stdin = TtyInput("yes\n")
    stdin.close()  # isatty() and readline() raise ValueError on a closed file: nobody can answer
    return stdin


ANSWERS: dict[str, Callable[[], io.StringIO]] = {
    "empty line": lambda: TtyInput("\n"),
    "y": lambda: TtyInput("y\n"),
    "YES ": lambda: TtyInput("YES \n"),
    "Yes": lambda: TtyInput("Yes\n"),
    "yes please": lambda: TtyInput("yes please\n"),
    "EOF": lambda: TtyInput(""),
    "closed stdin": closed_stdin,
    "Ctrl-C": lambda: Interrupted(""),
    "piped yes": lambda: io.StringIO("yes\n"),
}


def test_headless_pay_sends_nothing_unless_yes_is_typed(
    regtest: RunningSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = issue(regtest, "C", 20_000 * SAT, description="headless consent")

    def pay(stdin: io.StringIO) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", stdin)
        capsys.readouterr()
        code = main(["pay", created["bolt11"], "--rpc-file", str(regtest.socket_path)])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return code, err

    for name, answer in ANSWERS.items():
        code, err = pay(answer())
        assert code == EXIT_NOT_SENT, name
        assert "lnconsole: not sent: the payment was not confirmed" in err, name
        assert sent_parts(regtest, created["payment_hash"]) == [], name
    TALLY.fault("headless answer that is not yes", len(ANSWERS))

    code, _ = pay(TtyInput("yes\n"))
    assert code == EXIT_OK
    check_parts(sent_parts(regtest, created["payment_hash"]), {(1, 1)}, amount_msat=20_000 * SAT)


def pay_on_a_terminal(sim: RunningSim, bolt11: str, typed: bytes) -> tuple[int, str, str]:
    """``lnconsole pay BOLT11`` in a subprocess whose stdin is a pseudo-terminal, ``typed`` at its keyboard."""
    master, slave = pty.openpty()
    try:
        process = start_console("pay", bolt11, "--rpc-file", str(sim.socket_path), stdin=slave)
        os.close(slave)
        os.write(master, typed)  # the terminal keeps it until the prompt reads it
        try:
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    finally:
        os.close(master)
    return process.returncode, out, err


def test_headless_pay_on_a_real_terminal(regtest: RunningSim) -> None:
    created = issue(regtest, "C", 30_000 * SAT, description="pty consent")
    for typed in (b"YES \n", b"\x04"):  # the wrong case; Ctrl-D (end of input)
        code, out, err = pay_on_a_terminal(regtest, created["bolt11"], typed)
        assert code == EXIT_NOT_SENT, err
        assert "Type yes to send this payment: " in out and "not confirmed" in err
        assert sent_parts(regtest, created["payment_hash"]) == []
    TALLY.fault("headless answer that is not yes", 2)
    code, out, err = pay_on_a_terminal(regtest, created["bolt11"], b"yes\n")
    assert code == EXIT_OK, err
    check_parts(sent_parts(regtest, created["payment_hash"]), {(1, 1)}, amount_msat=30_000 * SAT)
