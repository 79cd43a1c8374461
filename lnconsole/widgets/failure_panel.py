"""The failure panel: why a part failed, where on its route, and what the payer can do about it.

It renders a :class:`PartState` (with the engine's explanation: :class:`lnconsole.failures.FailureExplanation`,
or the engine's basic stand-in, or none at all) and says which keys act on it; the attempts screen owns the keys.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from ..amounts import format_sat
from ..routing import Route
from .attempts_table import PartState

STEP_WORDS = {
    "RETRY_ELSEWHERE": "retry the part on another route, around the failing channel",
    "EXCLUDE_NODE": "retry the part on a route that avoids the failing node",
    "UPDATE_AND_RETRY": "the channel's policy changed: retry with a recomputed route",
    "STOP": "don't retry",
}


def step_name(explanation: Any) -> str:
    """The next step's name (``RETRY_ELSEWHERE``...) from either explanation shape; empty when unknown."""
    step = getattr(explanation, "next_step", None)
    if step is None:
        return ""
    name = getattr(step, "name", None) or getattr(step, "value", None) or str(step)
    return str(name).upper()


def erring_hop(state: PartState) -> int | None:
    """Index in ``route.hops`` of the channel the failure points at, when it is on the route."""
    route = state.route
    if route is None or not route.hops:
        return None
    index = getattr(state.explanation, "erring_hop", None)
    if isinstance(index, int) and 0 <= index < len(route.hops):
        return index
    failure = state.failure
    if failure is None:
        return None
    if failure.erring_channel:
        for position, hop in enumerate(route.hops):
            if hop.short_channel_id == failure.erring_channel:
                return position
    erring_index = failure.erring_index
    if isinstance(erring_index, int) and 0 <= erring_index <= len(route.hops):
        return 0 if erring_index == 0 else min(erring_index, len(route.hops) - 1)
    return None


def failcode_name(state: PartState) -> str:
    name = getattr(state.explanation, "failcodename", None) or (state.failure.failcodename if state.failure else None)
    if name:
        return str(name)
    if state.code is not None:
        return f"error {state.code}"
    return "no failure code"


def route_lines(route: Route, highlight: int | None) -> list[Text]:
    """The route one channel a line, ``from ─scid/dir→ to``, the erring channel marked and highlighted."""
    lines: list[Text] = []
    names = ["us", *(hop.alias or hop.node_id[:12] for hop in route.hops)]
    for index, hop in enumerate(route.hops):
        erring = index == highlight
        line = Text.assemble(
            ("✗ " if erring else "  ", "bold red"),
            (f"{index + 1}. ", "dim"),
            names[index],
            (f" ─{hop.short_channel_id_dir}→ ", "bold" if erring else "dim"),
            names[index + 1],
            (f"  {format_sat(hop.amount_msat)}", "dim"),
        )
        if erring:
            line.append("  ← failed here", style="bold red")
            line.stylize("reverse")
        lines.append(line)
    return lines


class FailurePanel(Static):
    """Where and why a part failed, the next step, and the keys that act on it."""

    DEFAULT_CSS = """
    FailurePanel {
        height: auto;
        border: round $error;
        border-title-color: $error;
        padding: 0 1;
    }
    """

    def show_part(self, state: PartState) -> None:
        self.border_title = f"Part {state.partid} failed" + (f" (group {state.groupid})" if state.groupid else "")
        self.update(Group(*self.describe(state)))

    @staticmethod
    def describe(state: PartState) -> list[Text]:
        """The panel's lines (also what the screenshots and tests read)."""
        explanation = state.explanation
        failure = state.failure
        lines: list[Text] = []
        highlight = erring_hop(state)
        if state.route is not None and state.route.hops:
            lines.extend(route_lines(state.route, highlight))
        else:
            lines.append(
                Text("Route: not known here (the part was found on the node, not sent by this console).", style="dim")
            )

        node_id = getattr(explanation, "erring_node", None) or (failure.erring_node if failure else None)
        if node_id:
            alias = getattr(explanation, "erring_alias", "") or _alias_on_route(state.route, node_id)
            lines.append(Text.assemble(("Erring node: ", "bold"), alias or "(no alias)", (f"  {node_id[:24]}…", "dim")))
        channel = getattr(explanation, "erring_channel_dir", None)
        if channel is None and failure is not None and failure.erring_channel:
            direction = failure.erring_direction
            channel = failure.erring_channel + (f"/{direction}" if direction in (0, 1) else "")
        if channel:
            lines.append(Text.assemble(("Channel: ", "bold"), channel))

        lines.append(Text.assemble(("Failure: ", "bold"), (failcode_name(state), "bold red")))
        meaning = getattr(explanation, "explanation", None) or state.message
        if meaning:
            lines.append(Text(str(meaning)))
        lines.append(Text.assemble(("Next step: ", "bold"), _next_step(state)))
        lines.append(_actions(state))
        return lines


def _alias_on_route(route: Route | None, node_id: str) -> str:
    if route is None:
        return ""
    return next((hop.alias for hop in route.hops if hop.node_id == node_id and hop.alias), "")


def _next_step(state: PartState) -> str:
    explanation = state.explanation
    if state.final:
        return "none: the destination itself refused the payment; a retry on any route gets the same answer."
    advice = getattr(explanation, "advice", None)
    if isinstance(advice, str) and advice:
        return advice
    name = step_name(explanation)
    if name:
        return STEP_WORDS.get(name, name.lower().replace("_", " "))
    if state.retryable:
        return "retry the part on another route."
    return state.message or "no retry is possible for this part."


def _actions(state: PartState) -> Text:
    if state.retried_by is not None:
        return Text(f"Retried as part {state.retried_by[1]} (group {state.retried_by[0]}).", style="dim")
    if state.given_up:
        return Text("Given up: nothing more is sent for this part.", style="dim")
    if state.retrying:
        return Text("Retrying…", style="bold yellow")
    if state.final:
        return Text.assemble(("No retry offered", "bold"), " (the payee refused).  ", ("g", "bold reverse"), " close")
    if not state.can_retry:
        reason = state.message or "the engine does not allow a retry of this part"
        return Text.assemble(("No retry offered: ", "bold"), reason, "  ", ("g", "bold reverse"), " give up")
    channel = _failing_channel(state)
    around = f" around {channel}" if channel else ""
    return Text.assemble(
        ("r", "bold reverse"),
        f" retry{around}   ",
        ("e", "bold reverse"),
        " retry with an edited route   ",
        ("g", "bold reverse"),
        " give up",
    )


def _failing_channel(state: PartState) -> str:
    exclusions = getattr(state.explanation, "exclude_channels", None) or ()
    nodes = getattr(state.explanation, "exclude_nodes", None) or ()
    if exclusions:
        return ", ".join(exclusions)
    if nodes and state.route is not None:
        return ", ".join(_alias_on_route(state.route, node) or node[:12] for node in nodes)
    return ""


__all__ = ["FailurePanel", "erring_hop", "failcode_name", "route_lines", "step_name"]
