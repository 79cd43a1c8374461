"""SVG snapshot tests of the main screens: how they look, pixel for pixel, against the demo network.

Each test takes the screenshots script's tour (``scripts/export_screenshots.py``: the demo app as
``lnconsole --demo`` builds it, driven by its keys) up to one picture, with everything that varies pinned (the
simulator's seed, preimages and clock; the app's clocks; cursor blink; toasts), and compares the screen with
the SVG stored in ``tests/ui/__snapshots__/test_snapshots/``.

After a deliberate change of looks, regenerate the baselines and look at them before committing::

    pytest tests/ui/test_snapshots.py --snapshot-update

A failing run writes ``snapshot_report.html`` (pytest-textual-snapshot's ``--snapshot-report``) with the
stored and the new picture side by side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from scripts.export_screenshots import CHAPTERS, INVOICE_SIZE, REPO, SHOTS, SIZE, PinnedDemo, tour

SMALL = (80, 24)
"""The keyboard-first small terminal (over SSH, a laptop's split pane)."""

SnapCompare = Callable[..., bool]


@pytest.fixture
def demo(short_socket_dir: Path) -> Iterator[PinnedDemo]:
    with PinnedDemo(short_socket_dir) as running:
        yield running


def until(demo: PinnedDemo, picture: str, *chapters: str) -> Callable[[Pilot[Any]], Any]:
    """``run_before`` for snap_compare: the tour's ``chapters`` (all by default) up to ``picture``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tour(pilot, demo, chapters=chapters or tuple(CHAPTERS), until=picture)

    return run_before


def test_demo_start(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """The demo's first screen: the invoice field, and the demo's payees below it, the first one chosen."""
    assert snap_compare(demo.app(), run_before=until(demo, "start", "bookstore"), terminal_size=SIZE)


def test_invoice_with_its_qr_code(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """A bookstore invoice checked against the node, its QR code beside the details."""
    assert snap_compare(demo.app(), run_before=until(demo, "invoice", "bookstore"), terminal_size=INVOICE_SIZE)


def test_invoice_at_80x24(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """The same invoice in a small terminal: the details scroll, the QR code gives way to a note."""
    assert snap_compare(demo.app(), run_before=until(demo, "invoice", "bookstore"), terminal_size=SMALL)


def test_route_after_an_edit(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """The route editor after excluding express: five hops the cheap long way, every hop checked."""
    assert snap_compare(demo.app(), run_before=until(demo, "route", "bookstore"), terminal_size=SIZE)


def test_split_liquidity_plan(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """big-merchant's invoice, which no single route carries, split by the liquidity plan."""
    assert snap_compare(demo.app(), run_before=until(demo, "split", "split"), terminal_size=SIZE)


def test_confirm_with_the_amount_typed_back(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """The confirmation dialog over the plan: a large amount typed back, Cancel still the default button."""
    assert snap_compare(demo.app(), run_before=until(demo, "confirm", "split"), terminal_size=SIZE)


def test_attempts_with_a_failure_panel(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """One part failed at gateway (drained), the others held at the payee: the failure panel and its keys."""
    assert snap_compare(demo.app(), run_before=until(demo, "attempts", "split"), terminal_size=SIZE)


def test_retry_confirmation(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """The failed part's retry, confirmed like a payment: the part's amount, its new route and fees."""
    assert snap_compare(demo.app(), run_before=until(demo, "retry_confirm", "split"), terminal_size=SIZE)


def test_history(snap_compare: SnapCompare, demo: PinnedDemo) -> None:
    """Two payments, newest first: one given up, one paid in parts (a retried part among them). The README's
    picture has the bookstore payment of the first chapter too; it is left out here to keep the test quick."""
    run_before = until(demo, "history", "split", "given_up", "history")
    assert snap_compare(demo.app(), run_before=run_before, terminal_size=SIZE)


def test_readme_shows_every_screenshot() -> None:
    """Every picture the script takes is in screenshots/ and shown by the README (and nothing else is)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"!\[[^\]]*\]\(screenshots/([\w-]+)\.svg\)", readme))
    names = {name for name, _ in SHOTS}
    assert shown == names
    assert {path.stem for path in (REPO / "screenshots").glob("*.svg")} == names
