"""The node goes away mid-payment, in the app: its socket file moved away ("no such socket"), then a socket path
nobody listens on ("connection refused"), while the simulator's payments go on. The header and the attempts
screens say the node is unreachable, the watchers ask again with a doubling delay (counted: no spinning), and once
the node is back the app reports each part's real final state, reached while it was away; nothing is sent again.

Two payments are in flight in one app: 540,000 sat to C in three parts (they complete while the node is away) and
10,000 sat to C on an invoice for a payment hash C never issued (C refuses it while the node is away: a final
failure, no retry offered).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Static

import lnconsole.app as app_module
from lnconsole.app import Settings, make_app
from lnconsole.node import PylnNode
from lnconsole.payment import NodeReachable, NodeUnreachableEvent, PaymentComplete, PaymentFailed, PaymentSession
from lnconsole.plan import PaymentTarget, equal_split
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.widgets.attempts_table import AttemptsTable
from tests.conftest import RunningSim
from tests.faults.helpers import HopGate, RecordingNode, check_parts, listener_gone, parts_on_node, socket_renamed
from tests.ui.helpers import (
    NOW,
    SAT,
    finder_for,
    in_event_loop,
    one_part_plan,
    open_confirm,
    payable,
    plain,
    refused_invoice,
    sent_parts,
    wait_until,
)

Watched = tuple[int, tuple[int, int]]
"""A part in flight: (which payment, (groupid, partid))."""

BACKOFF_INITIAL_S = 0.25
"""PaymentSession's first delay before asking an unreachable node again (the app keeps the engine's default)."""


def statuses(screen: AttemptsScreen) -> dict[str, str]:
    table: AttemptsTable = screen.table
    return {str(key.value): str(table.get_cell(key, "status")) for key in table.rows}


def pending_rows(screen: AttemptsScreen) -> int:
    """How many rows the screen shows, if every one is pending (else -1)."""
    shown = statuses(screen).values()
    return len(shown) if all(status.startswith("⋯ pending") for status in shown) else -1


def part_events(sessions: list[PaymentSession], marks: list[int], kind: type[Any]) -> dict[Watched, list[Any]]:
    """Each part's events of ``kind`` since ``marks`` (where each session's events stood), by (session, part)."""
    found: dict[Watched, list[Any]] = {}
    for index, (session, mark) in enumerate(zip(sessions, marks, strict=True)):
        for event in session.events[mark:]:
            if isinstance(event, kind):
                found.setdefault((index, (event.groupid, event.partid)), []).append(event)
    return found


def header_banner(app: Any) -> Static:
    return app.screen.query_one("#node-banner", Static)


def no_spin(events: list[NodeUnreachableEvent], outage_s: float) -> None:
    """The watcher's attempts while the node was away: numbered 1, 2, 3..., each announcing a delay twice the
    last (capped), and no more of them than a doubling delay allows in ``outage_s`` (plus the first)."""
    assert [event.attempt for event in events] == list(range(1, len(events) + 1))
    delays = [event.retry_in for event in events]
    assert delays[0] == BACKOFF_INITIAL_S
    assert all(later == min(2 * earlier, 5.0) for earlier, later in itertools.pairwise(delays))
    assert len(events) <= 2 + math.log2(1 + outage_s / BACKOFF_INITIAL_S)


@in_event_loop
async def test_the_node_going_away_mid_payment_and_coming_back(
    start_sim: Callable[..., RunningSim], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STATUS_INTERVAL_S", 0.2)  # the header's poller, as in the app but quicker
    sim = start_sim("regtest")
    gate = HopGate(sim)
    big = payable(sim, 540_000 * SAT)
    big_plan = equal_split(PaymentTarget.from_invoice(big), 3, finder_for(sim))
    refused = refused_invoice(sim)
    refused_plan = one_part_plan(sim, refused)
    node = RecordingNode(PylnNode(sim.socket_path))
    app = make_app(node, Settings(poll_timeout_s=1), clock=lambda: NOW)

    async with app.run_test(size=(100, 32)) as pilot:
        screens: list[AttemptsScreen] = []
        for plan, invoice, parts in ((big_plan, big, 3), (refused_plan, refused, 1)):
            await open_confirm(pilot, plan, invoice)
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen) and app.screen not in screens)
            screen = app.screen
            assert isinstance(screen, AttemptsScreen)
            await wait_until(pilot, lambda s=screen, n=parts: pending_rows(s) == n)
            screens.append(screen)
        big_screen, refused_screen = screens
        sessions = [screen.session for screen in screens]
        watched = [(index, (p.groupid, p.partid)) for index, session in enumerate(sessions) for p in session.parts()]
        assert len(watched) == 4 and node.count("sendpay") == 4

        # 1. The socket file is moved away: "no such socket". The payments go on on the node (held at their
        #    first hop): the watchers keep asking, with a doubling delay.
        marks = [len(session.events) for session in sessions]
        began = time.monotonic()
        with socket_renamed(sim):
            await wait_until(
                pilot,
                lambda: all(len(part_events(sessions, marks, NodeUnreachableEvent).get(w, [])) >= 3 for w in watched),
                15,
            )
            await wait_until(pilot, lambda: not app.status.reachable)
            await pilot.pause()
            assert header_banner(app).display
            assert "Node unreachable: cannot reach lightningd at" in plain(header_banner(app))
            for screen in screens:
                banner = plain(screen.banner)
                assert screen.banner.display and "The node does not answer" in banner and "no such socket" in banner
                assert "The parts go on on the node" in banner
            assert all(status.startswith("? node away") for status in statuses(big_screen).values())
            outage = time.monotonic() - began
            attempts = part_events(sessions, marks, NodeUnreachableEvent)
        for events in attempts.values():
            no_spin(events, outage + 0.5)  # the last attempt may have been on its way as the socket came back

        await wait_until(pilot, lambda: app.status.reachable, 10)
        await wait_until(pilot, lambda: set(part_events(sessions, marks, NodeReachable)) == set(watched), 10)
        await pilot.pause()
        assert not header_banner(app).display
        for screen in screens:
            assert not screen.banner.display and "The node answers again" in plain(screen.outcome_view)
        assert {status for *_, status in parts_on_node(sim, big.invoice.payment_hash)} == {"pending"}
        assert len(app.sessions) == 2 and app.screen is refused_screen  # nothing new was resumed or shown

        # 2. Nobody listens on the socket path: "connection refused". While the node is away, the HTLCs go on:
        #    the big payment completes, C refuses the other.
        marks = [len(session.events) for session in sessions]
        with listener_gone(sim):

            def refused_once() -> bool:
                found = part_events(sessions, marks, NodeUnreachableEvent)
                return all(any("connection refused" in e.message for e in found.get(w, [])) for w in watched)

            def settled_on_node() -> bool:
                big_parts = {status for *_, status in parts_on_node(sim, big.invoice.payment_hash)}
                refused_parts = [status for *_, status in parts_on_node(sim, refused.invoice.payment_hash)]
                return big_parts == {"complete"} and refused_parts == ["failed"]

            await wait_until(pilot, refused_once, 15)
            gate.open()
            await wait_until(pilot, settled_on_node, 10)
            assert big_screen.session.outcome is None and refused_screen.session.outcome is None  # not known yet
            assert refused_screen.banner.display and "connection refused" in plain(refused_screen.banner)

        # 3. Back: each part's real outcome, as it happened while the node was away.
        await wait_until(pilot, lambda: all(session.outcome is not None for session in sessions), 15)
        await pilot.pause()
        done = big_screen.session.outcome
        assert isinstance(done, PaymentComplete) and done.parts == 3 and not done.already_paid
        assert all(status.startswith("✓ complete") for status in statuses(big_screen).values())
        assert "Paid 540,000 sat in 3 parts" in plain(big_screen.outcome_view)
        failed = refused_screen.session.outcome
        assert isinstance(failed, PaymentFailed) and failed.final and failed.retryable_parts == ()
        assert next(iter(statuses(refused_screen).values())).startswith("✗ incorrect_or_unknown_payment_details")
        assert not refused_screen.check_action("retry", ())
        assert not big_screen.banner.display and not refused_screen.banner.display

    # Nothing was sent again: one sendpay per part, on the node and from the console.
    check_parts(sent_parts(sim, big.invoice.payment_hash), {(1, 1), (1, 2), (1, 3)}, amount_msat=540_000 * SAT)
    check_parts(sent_parts(sim, refused.invoice.payment_hash), {(1, 1)})
    assert node.count("sendpay") == 4 and node.count("sendpay", "ok") == 4
    assert node.count("waitsendpay", "unreachable") >= 3 * 4  # asked again and again while away, never resent
