"""A console SIGKILLed with parts in flight, then started again: it finds the parts (``listsendpays`` pending), shows
the same payment (same payment_hash, groupid and partids) and watches each part to its end; nothing is sent again.

The killed console runs in a subprocess: the headless ``lnconsole pay --parts 3 --yes``, or the Textual app driven by
its keys (tests/faults/console_process.py). The simulator runs in this process, its HTLCs held at their first hop
(:class:`HopGate`) so the parts stay pending across the kill and the restart. Two consoles come back at once: the
app (in this process) and a headless ``lnconsole pay`` of the same invoice (a subprocess); then the HTLCs go on.

Regtest: 540,000 sat to C only goes through in parts (B-C, D-C and B-E-C carry 180,000 sat each).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from lnconsole.headless import EXIT_OK
from lnconsole.payment import PartAttached, PartComplete, PartSent, PaymentComplete
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.widgets.attempts_table import AttemptsTable
from tests.conftest import RunningSim
from tests.faults.helpers import TALLY, HopGate, check_parts, start_console
from tests.ui.helpers import SAT, app_for, in_event_loop, issue, sent_parts, wait_until

AMOUNT = 540_000 * SAT
PARTS = {(1, 1), (1, 2), (1, 3)}


def wait_for(condition: Callable[[], object], what: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    """Poll ``condition`` while ``process`` runs (a console that died early fails the test with its stderr)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"the console ended ({process.returncode}) before {what}: {err[-2000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def killed_console(kind: str, sim: RunningSim, bolt11: str, payment_hash: str) -> list[tuple[int, int]]:
    """Start a console that pays ``bolt11`` in three parts, SIGKILL it once the node has the three parts pending,
    and return the (groupid, partid) the console itself reported sending (its JSON events, or for the app the
    parts on the node, since its screen died with it)."""
    if kind == "headless":
        process = start_console("pay", bolt11, "--parts", "3", "--yes", "--json", "--rpc-file", str(sim.socket_path))
    else:
        process = start_console("-m", "tests.faults.console_process", str(sim.socket_path), bolt11)
    try:
        wait_for(
            lambda: [r.status for r in sent_parts(sim, payment_hash)] == ["pending"] * 3,
            "three parts pending on the node",
            process,
        )
        if kind == "textual":
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "confirmed"  # its attempts screen showed the parts
    finally:
        process.kill()  # SIGKILL: no cleanup, no goodbye to the node
        out, _ = process.communicate(timeout=10)
    TALLY.fault("console SIGKILLed")
    assert process.returncode == -9
    if kind == "headless":
        sent = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return sorted((event["groupid"], event["partid"]) for event in sent if event["event"] == "part_sent")
    return sorted((r.groupid, r.partid) for r in sent_parts(sim, payment_hash))


def table_rows(screen: AttemptsScreen) -> dict[str, str]:
    table: AttemptsTable = screen.table
    return {str(key.value): str(table.get_cell(key, "status")) for key in table.rows}


@pytest.mark.parametrize("kind", ["headless", "textual"])
@in_event_loop
async def test_a_console_killed_mid_payment_is_found_again_and_watched_to_the_end(
    start_sim: Callable[..., RunningSim], kind: str
) -> None:
    sim = start_sim("regtest")
    gate = HopGate(sim)
    created = issue(sim, "C", AMOUNT, description=f"killed {kind} console")
    bolt11, payment_hash = created["bolt11"], created["payment_hash"]

    sent_by_killed = killed_console(kind, sim, bolt11, payment_hash)
    assert set(sent_by_killed) == PARTS
    before = sent_parts(sim, payment_hash)
    assert [(r.groupid, r.partid, r.status) for r in before] == [
        (1, 1, "pending"),
        (1, 2, "pending"),
        (1, 3, "pending"),
    ]

    # Two consoles start again at once: the app, and `lnconsole pay` of the same invoice.
    app = app_for(sim)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen) and app.screen.is_mounted, 15)
        screen = app.screen
        assert isinstance(screen, AttemptsScreen) and screen.payment_hash == payment_hash
        session = screen.session
        await wait_until(pilot, lambda: len(table_rows(screen)) == 3)
        assert session.groupid == 1
        assert {(part.groupid, part.partid) for part in session.parts()} == PARTS
        assert set(table_rows(screen)) == {"1:1", "1:2", "1:3"}  # the same payment, not a new one
        assert {part.amount_msat for part in session.parts()} == {r.amount_msat for r in before}

        # The very command that was killed, run again (as its message says to): it watches, sends nothing new.
        headless = start_console("pay", bolt11, "--parts", "3", "--yes", "--json", "--rpc-file", str(sim.socket_path))
        try:
            assert headless.stderr is not None
            # Read off the app's loop (the app runs on meanwhile); a console that hangs is killed below.
            said = await asyncio.wait_for(asyncio.to_thread(headless.stderr.readline), 30)
            assert said.strip() == (
                "3 part(s) of this payment are in flight on the node (group 1): watching them, sending nothing new."
            )

            gate.open()  # the HTLCs go on: the payee gets every part and settles
            await wait_until(pilot, lambda: isinstance(session.outcome, PaymentComplete), 20)
            await pilot.pause()
            assert all(status.startswith("✓ complete") for status in table_rows(screen).values())
            out, err = await asyncio.to_thread(headless.communicate, timeout=30)
        finally:
            if headless.poll() is None:
                headless.kill()
                headless.communicate()

    events: list[Any] = session.events
    assert not any(isinstance(event, PartSent) for event in events)  # watched, never sent
    assert {(e.groupid, e.partid) for e in events if isinstance(e, PartAttached)} == PARTS
    assert {(e.groupid, e.partid) for e in events if isinstance(e, PartComplete)} == PARTS
    done = session.outcome
    assert isinstance(done, PaymentComplete) and done.parts == 3 and done.amount_msat == AMOUNT

    assert headless.returncode == EXIT_OK, err
    lines = [json.loads(line) for line in out.splitlines()]
    attached = sorted((e["groupid"], e["partid"]) for e in lines if e["event"] == "part_attached")
    assert attached == sorted(PARTS)
    assert not [e for e in lines if e["event"] == "part_sent"]
    assert lines[-1]["status"] == "complete" and lines[-1]["preimage"] == done.preimage

    records = check_parts(sent_parts(sim, payment_hash), PARTS, amount_msat=AMOUNT)
    assert [r.status for r in records] == ["complete"] * 3
    assert [(r.created_index, r.amount_sent_msat) for r in records] == [
        (r.created_index, r.amount_sent_msat) for r in before
    ]  # the very parts the killed console sent
