"""The fault tests' closing numbers (issue 6): faults injected, payments and parts checked on the node, and what
was lost or duplicated, printed at the end of any run that included them."""

from __future__ import annotations

from typing import Any

from tests.faults.helpers import TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.payments and not TALLY.faults:
        return
    faults = ", ".join(f"{kind} {count}" for kind, count in sorted(TALLY.faults.items()))
    terminalreporter.write_sep("-", "faults injected and parts checked (tests/faults)")
    terminalreporter.write_line(f"faults injected: {sum(TALLY.faults.values())} ({faults})")
    terminalreporter.write_line(
        f"payments checked on the node: {TALLY.payments}, their sendpay parts: {TALLY.parts}; "
        f"parts lost: {TALLY.lost}, parts sent twice: {TALLY.duplicated}"
    )
    terminalreporter.write_line(
        f"sendpay calls by the in-process consoles that reached the node: {TALLY.sendpay_calls}"
    )
