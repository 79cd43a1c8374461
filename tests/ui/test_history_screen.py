"""The history screen against the regtest network over the socket: grouping, filter, detail, watch, paging.

A is us; the payments go to C over A-B-C and A-D-C. Made before the app starts, oldest first:
1. a complete single-part payment labelled "coffee";
2. and 3. two failed groups of one unknown payment hash (C refuses it: incorrect_or_unknown_payment_details);
4. a complete two-part payment (one group, parts over A-B-C and A-D-C);
5. one part of a three-part payment, held by C until the rest arrives: pending.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from pyln.client import RpcError

from benchmarks.history import populate
from lnconsole.app import make_app
from lnconsole.node import PylnNode
from lnconsole.screens.history import PAGE_SIZE, HistoryScreen
from lnconsole.screens.payment_detail import PaymentDetailScreen
from lnconsole.sim.payments import PaymentBook
from lnconsole.widgets.history_table import HistoryTable, group_key
from tests.conftest import RunningSim
from tests.sim.helpers import ABC, ADC, build_route, make_invoice, send_part
from tests.ui.helpers import app_for, in_event_loop, open_history, started, wait_until

LATER = 300
"""The app's clock runs this many seconds after the payments were made."""


class Payments:
    """The five payments of the module docstring, with what the node recorded for them."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        coffee = make_invoice(sim, "C", 10_000_000, description="coffee")
        send_part(sim, coffee, *ABC, 10_000_000, 0, None, 10_000_000, bolt11=coffee.bolt11, label="coffee")
        sim.rpc.waitsendpay(coffee.payment_hash, timeout=10)
        self.coffee = coffee.payment_hash

        self.unknown = hashlib.sha256(b"nobody has this preimage").hexdigest()
        for groupid in (1, 2):
            sim.rpc.call(
                "sendpay",
                {
                    "route": build_route(sim, *ABC, 20_000_000),
                    "payment_hash": self.unknown,
                    "payment_secret": os.urandom(32).hex(),
                    "groupid": groupid,
                },
            )
            with pytest.raises(RpcError):
                sim.rpc.waitsendpay(self.unknown, groupid=groupid, timeout=10)

        split = make_invoice(sim, "C", 300_000_000, description="a bike, in two parts")
        for partid, path in ((1, ABC), (2, ADC)):
            send_part(sim, split, *path, 150_000_000, partid, 5, 300_000_000, bolt11=split.bolt11)
        for partid in (1, 2):
            sim.rpc.waitsendpay(split.payment_hash, partid=partid, groupid=5, timeout=10)
        self.split = split.payment_hash
        self.split_preimage = split.preimage

        held = make_invoice(sim, "C", 90_000_000, description="held until the rest comes")
        send_part(sim, held, *ADC, 30_000_000, 1, 1, 90_000_000, bolt11=held.bolt11)
        self.held = held.payment_hash
        self.held_invoice = held

        self.records = sim.rpc.listsendpays()["payments"]
        self.now = max(record["created_at"] for record in self.records) + LATER

    def fee(self, payment_hash: str) -> int:
        parts = [r for r in self.records if r["payment_hash"] == payment_hash]
        return sum(r["amount_sent_msat"] - r["amount_msat"] for r in parts)


@pytest.fixture
def sim(start_sim: Callable[..., RunningSim]) -> RunningSim:
    return start_sim("regtest", hop_delay_ms=0, mpp_timeout_s=120)


@pytest.fixture
def payments(sim: RunningSim) -> Payments:
    return Payments(sim)


def all_in(screen: HistoryScreen) -> bool:
    """No page being read."""
    return not screen.reading


def column(table: HistoryTable, name: str) -> list[str]:
    return table.column_texts(name)


def row_keys(table: HistoryTable) -> list[str]:
    return table.keys


@in_event_loop
async def test_one_row_per_payment_attempt_newest_first(sim: RunningSim, payments: Payments) -> None:
    async with app_for(sim, now=payments.now).run_test(size=(100, 32)) as pilot:
        screen = await open_history(pilot)
        table = screen.table
        assert row_keys(table) == [
            group_key(payments.held, 1),
            group_key(payments.split, 5),
            group_key(payments.unknown, 2),
            group_key(payments.unknown, 1),
            group_key(payments.coffee, 1),
        ]
        assert column(table, "status") == ["pending", "complete", "failed", "failed", "complete"]
        assert column(table, "parts") == ["1", "2", "1", "1", "1"]
        # The pending payment counts what is in flight; the split one both parts; a failed one what it offered.
        assert column(table, "amount") == ["30,000", "300,000", "20,000", "20,000", "10,000"]
        split_fee = payments.fee(payments.split)
        assert column(table, "fee")[1] == f"{split_fee // 1000:,}.{split_fee % 1000:03d}".rstrip("0")
        assert column(table, "fee")[2:4] == ["-", "-"]  # a failed payment paid no fee
        assert column(table, "note")[4] == "coffee"
        assert column(table, "when") == ["5m ago"] * 5  # the app's clock, pinned 300 s after the newest
        await wait_until(pilot, lambda: column(table, "destination") == ["C"] * 5)  # aliases, asked once
        assert "5 payments (6 parts), all read" in str(screen.status_line.render())


@in_event_loop
async def test_status_filter_keys(sim: RunningSim, payments: Payments) -> None:
    async with app_for(sim, now=payments.now).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        table = screen.table
        await pilot.press("3")
        assert column(table, "status") == ["complete", "complete"]
        assert row_keys(table) == [group_key(payments.split, 5), group_key(payments.coffee, 1)]
        assert "Complete" in str(screen.filter_bar.render())
        await pilot.press("4")
        assert row_keys(table) == [group_key(payments.unknown, 2), group_key(payments.unknown, 1)]
        await pilot.press("2")
        assert row_keys(table) == [group_key(payments.held, 1)]
        assert "1 pending of 5 payments read" in str(screen.status_line.render())
        await pilot.press("1")
        assert table.row_count == 5

        # The mouse works too: a filter is clicked, a row is clicked, and a click on the highlighted row opens it.
        bar = str(screen.filter_bar.render())
        await pilot.click("#history-filter", offset=(bar.index("4 Failed") + 2, 0))
        assert screen.status_filter == "failed"
        await pilot.click("#history-filter", offset=(bar.index("1 All") + 2, 0))
        await pilot.click("#history-table", offset=(3, 2))  # the header is line 0: line 2 is the second row
        assert table.cursor_row == 1 and table.selected_key == group_key(payments.split, 5)
        await pilot.click("#history-table", offset=(3, 3))
        assert table.cursor_row == 2 and table.selected_key == group_key(payments.unknown, 2)
        await pilot.click("#history-table", offset=(3, 3))
        assert isinstance(pilot.app.screen, PaymentDetailScreen) and pilot.app.screen.groupid == 2


@in_event_loop
async def test_opening_a_payment_shows_its_parts_and_why_one_failed(sim: RunningSim, payments: Payments) -> None:
    async with app_for(sim, now=payments.now).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("down", "enter")  # the split payment
        detail = pilot.app.screen
        assert isinstance(detail, PaymentDetailScreen)
        await wait_until(pilot, lambda: detail.parts_table.row_count == 2)
        assert [str(cell) for cell in detail.parts_table.get_column("status")] == ["complete", "complete"]
        assert [str(cell) for cell in detail.parts_table.get_column("amount")] == ["150,000", "150,000"]
        summary = str(detail.summary.render())
        assert "300,000 sat paid" in summary and payments.split_preimage in summary
        assert "a bike, in two parts" in summary  # the invoice's description, decoded from its bolt11
        await pilot.press("y")
        assert pilot.app.clipboard == payments.split_preimage
        await pilot.press("escape")
        assert pilot.app.screen is screen

        await pilot.press("down", "enter")  # the second failed group of the unknown hash
        detail = pilot.app.screen
        assert isinstance(detail, PaymentDetailScreen) and detail.groupid == 2
        await wait_until(pilot, lambda: detail.parts_table.row_count == 1)
        panel = str(detail.failure_panel.render())
        assert "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS at C" in panel
        assert "Don't retry" in panel or "refused" in panel
        assert "group 1 failed (1)" in str(detail.summary.render())  # the other try of the same hash
        await pilot.press("c")
        assert pilot.app.clipboard == payments.unknown


@in_event_loop
async def test_watch_a_pending_payment_opens_the_attempts_screen(sim: RunningSim, payments: Payments) -> None:
    from lnconsole.screens.attempts import AttemptsScreen

    async with app_for(sim, now=payments.now).run_test(size=(100, 32)) as pilot:
        screen = await open_history(pilot)
        assert screen.selected_group is not None and screen.selected_group.status == "pending"
        assert screen.check_action("watch", ()) is True
        await pilot.press("down")
        assert screen.check_action("watch", ()) is None  # a complete payment: Watch is dimmed
        await pilot.press("up", "w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AttemptsScreen))
        attempts = pilot.app.screen
        assert isinstance(attempts, AttemptsScreen) and attempts.payment_hash == payments.held
        assert list(pilot.app.sessions) == [payments.held]  # the session the app resumed on start, reused
        await pilot.pause(0.3)
        assert len(sim.rpc.listsendpays()["payments"]) == len(payments.records)  # watching sends nothing


@in_event_loop
async def test_a_pending_payment_is_asked_about_again_until_it_settles(
    sim: RunningSim, payments: Payments, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lnconsole.screens import history

    monkeypatch.setattr(history, "PENDING_INTERVAL_S", 0.2)
    async with app_for(sim, now=payments.now).run_test(size=(100, 32)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("2")
        assert row_keys(screen.table) == [group_key(payments.held, 1)]
        held = payments.held_invoice
        send_part(sim, held, *ABC, 60_000_000, 2, 1, 90_000_000, bolt11=held.bolt11)  # the rest arrives: paid
        await wait_until(pilot, lambda: screen.table.row_count == 0)  # no longer pending: leaves the filter
        await pilot.press("1")
        assert column(screen.table, "status")[0] == "complete"
        assert column(screen.table, "parts")[0] == "2"
        assert column(screen.table, "amount")[0] == "90,000"


class CountingNode(PylnNode):
    """Counts the listsendpays calls the console makes, and the records they bring."""

    def __init__(self, socket_path: Any) -> None:
        super().__init__(socket_path)
        self.listsendpays_calls: list[dict[str, Any]] = []
        self.records = 0

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = super().call(method, params)
        if method == "listsendpays":
            self.listsendpays_calls.append(dict(params or {}))
            self.records += len(answer.get("payments", ()))
        return answer


@in_event_loop
async def test_thousands_of_payments_open_with_a_few_calls_and_scrolling_reads_older_pages(
    sim: RunningSim,
) -> None:
    sim.on_loop(populate, sim.node, 3_000)
    book = sim.node.component(PaymentBook)
    expected: dict[str, int] = {}
    for created_index in book._ids:
        record = book._by_id[created_index]
        key = group_key(record.payment_hash, record.groupid)
        expected[key] = expected.get(key, 0) + 1
    newest = book._by_id[book._ids[-1]]
    node = CountingNode(sim.socket_path)

    async with app_for(sim, now=newest.created_at + 60, node=node).run_test(size=(100, 32)) as pilot:
        await started(pilot)
        node.listsendpays_calls.clear()
        node.records = 0
        screen = await open_history(pilot)
        table = screen.table
        assert row_keys(table)[0] == group_key(newest.payment_hash, newest.groupid)
        assert all(call.get("index") == "created" and call.get("limit") for call in node.listsendpays_calls)
        assert len(node.listsendpays_calls) <= 20
        assert node.records <= 2 * PAGE_SIZE + 20  # one page, at most two: never the 3,000
        first_open = len(node.listsendpays_calls)

        # A filter that matches few payments reads older pages until the screen is full, then stops.
        await pilot.press("4")
        await wait_until(pilot, lambda: table.row_count >= table.size.height and all_in(screen))
        assert set(column(table, "status")) == {"failed"}
        assert 1 < screen.book.pages_read < 15
        await pilot.press("1")

        # The mouse wheel moves no cursor: rows coming into view near the end read on all the same.
        pages = screen.book.pages_read
        table.scroll_to(y=table.row_count, animate=False)
        await wait_until(pilot, lambda: screen.book.pages_read > pages and all_in(screen))

        while not screen.book.exhausted:
            rows = table.row_count
            await pilot.press("ctrl+end")
            await wait_until(pilot, lambda rows=rows: all_in(screen) and table.row_count > rows)
        shown = row_keys(table)
        assert len(shown) == len(set(shown)) == len(expected)  # no group split in two rows, none missing
        assert {key: screen.book.groups[key].part_count for key in shown} == expected
        oldest = book._by_id[book._ids[0]]
        assert shown[-1] == group_key(oldest.payment_hash, oldest.groupid)
        assert "all read" in str(screen.status_line.render())

        # A reopen starts from what the first open learnt: a couple of calls before the page.
        await pilot.press("f2")
        calls = len(node.listsendpays_calls)
        await open_history(pilot)
        assert len(node.listsendpays_calls) - calls <= 4 < first_open


def test_the_newest_end_is_found_with_a_few_probes_across_deleted_payments(sim: RunningSim) -> None:
    from lnconsole.node import newest_created_index

    sim.on_loop(populate, sim.node, 1_000)
    book = sim.node.component(PaymentBook)
    sim.on_loop(lambda: [book._delete(book._by_id[index]) for index in range(990, 1001)])  # the newest, deleted
    node = CountingNode(sim.socket_path)
    assert newest_created_index(node) == 989
    assert len(node.listsendpays_calls) <= 16
    assert newest_created_index(node, hint=1_000) == 989  # the end learnt before was deleted since
    node.listsendpays_calls.clear()
    assert newest_created_index(node, hint=989) == 989
    assert len(node.listsendpays_calls) == 2
    end = newest_created_index(node, within=PAGE_SIZE)
    assert 989 <= end < 989 + PAGE_SIZE


@in_event_loop
async def test_older_pages_skip_runs_of_deleted_payments(sim: RunningSim) -> None:
    sim.on_loop(populate, sim.node, 1_000)
    book = sim.node.component(PaymentBook)
    sim.on_loop(lambda: [book._delete(book._by_id[index]) for index in range(300, 651)])  # more than a page
    groups = {group_key(book._by_id[i].payment_hash, book._by_id[i].groupid) for i in book._ids}
    newest = book._by_id[book._ids[-1]]
    async with app_for(sim, now=newest.created_at).run_test(size=(100, 32)) as pilot:
        screen = await open_history(pilot)
        while not screen.book.exhausted:
            rows = screen.table.row_count
            await pilot.press("ctrl+end")
            await wait_until(pilot, lambda rows=rows: all_in(screen) and screen.table.row_count > rows)
        assert set(row_keys(screen.table)) == groups


@in_event_loop
async def test_an_unreachable_node_is_said_in_place_and_keys_do_no_harm(short_socket_dir: Any) -> None:
    app = make_app(PylnNode(short_socket_dir / "no-node"), clock=lambda: 1_800_000_000, poll_status=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("f5")
        screen = pilot.app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_until(pilot, lambda: "Could not read the history" in str(screen.status_line.render()))
        assert "no such socket" in str(screen.status_line.render())
        # The screen's failed worker reaches the app's one handler too (ConsoleScreen), which notifies it.
        await wait_until(pilot, lambda: any(n.title == "Node unreachable" for n in pilot.app._notifications))
        await pilot.press("enter", "w", "c", "y", "m", "4", "r")  # nothing to act on: nothing happens
        await wait_until(pilot, lambda: not screen.reading)
        assert pilot.app.screen is screen and screen.table.row_count == 0
