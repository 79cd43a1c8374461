"""The command palette's list of actions: every key the app and the current screen bind, with the key shown.

Built from the live bindings (the app's, the screen's, and those of the focused widgets, after any keymap),
so an action gets into the palette by getting a ``Binding`` with a description in one of the console's
classes: nothing here names a screen's actions. Keys only Textual's own classes bind
(focus moves, cursor keys, text selection) are left out, and so are actions the screen disables at the
moment (``check_action``). In the demo, the
palette also offers the demo's invoices from every screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

OWN_PACKAGE = "lnconsole."
"""Widgets whose bindings are offered: the console's own (not Textual's cursor and editing keys)."""
DEMO_ACTION = "demo_invoices"
"""The invoice screen's action that shows the demo's payees (and moves to them)."""


@dataclass(frozen=True)
class PaletteCommand:
    """One action as the palette lists it."""

    key: str
    """The key as the footer shows it (``F2``, ``^q``); empty for commands without a key."""
    description: str
    help: str
    run: Callable[[], Any]
    action: str = ""

    @property
    def text(self) -> str:
        """``F2 New payment``: the key first, as the footer shows it."""
        return f"{self.key} {self.description}" if self.key else self.description


def key_label(display: str) -> str:
    """Function keys as keyboards print them (``F2``); other keys as Textual displays them."""
    return display.upper() if re.fullmatch(r"f[0-9]{1,2}", display) else display


def _declared_actions(node: DOMNode) -> set[str]:
    """Actions bound in the BINDINGS of the console's own classes among the node's classes."""
    actions: set[str] = set()
    for cls in type(node).__mro__:
        if cls.__module__.startswith(OWN_PACKAGE):
            actions.update(binding.action for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ())))
    return actions


def _binding_chain(screen: Any, app: Any) -> list[tuple[DOMNode, Binding]]:
    """Every binding from the focused widget up to the app (or a dialog), the screen's first and the app's last.

    Unlike ``Screen.active_bindings`` this keeps keys a focused Input would swallow: the palette runs the
    action itself, so "c Copy" belongs in it even while the cursor is in a text field.
    """
    focused = screen.focused
    chain = list(focused.ancestors_with_self) if focused is not None else [screen, app]
    nodes = []
    for node in chain:
        nodes.append(node)
        if getattr(node, "is_modal", False):
            break  # a dialog's keys only: the app's keys don't reach through it
    nodes.sort(key=lambda node: 0 if node is screen else (2 if node is app else 1))
    # ``_bindings`` is the node's live bindings map (after any keymap), as Textual's footer reads it.
    return [(node, binding) for node in nodes for _key, binding in getattr(node, "_bindings", ())]


def _allowed(app: Any, binding: Binding, node: DOMNode) -> bool:
    """What the footer asks before it lights a key: the node's ``check_action`` (False or None: not now)."""
    check = getattr(app, "_check_action_state", None)  # Textual's own helper (it resolves namespaces)
    return True if check is None else bool(check(binding.action, node))


def palette_commands(screen: Any, app: Any) -> Iterator[PaletteCommand]:
    """The actions a user can run now on ``screen``, each once: the screen's, its widgets', then the app's."""
    own: dict[int, set[str]] = {}
    seen: set[tuple[int, str]] = set()
    for node, binding in _binding_chain(screen, app):
        if binding.system or not binding.description:
            continue
        if id(node) not in own:
            own[id(node)] = _declared_actions(node)
        if binding.action not in own[id(node)]:
            continue  # Textual's own keys (focus moves, cursor keys, text selection)
        if (id(node), binding.action) in seen:
            continue
        if not _allowed(app, binding, node):
            continue
        seen.add((id(node), binding.action))
        yield PaletteCommand(
            key=key_label(app.get_key_display(binding)),
            description=binding.description,
            help=binding.tooltip or "",
            run=partial(app.run_action, binding.action, node),
            action=binding.action,
        )
    demo = getattr(app, "demo", None)
    offered = any(action == DEMO_ACTION for _id, action in seen)
    if demo is not None and getattr(demo, "payees", None) and not offered and not screen.is_modal:
        yield PaletteCommand(
            "",
            "Demo invoices",
            "Pay an invoice of one of the demo's simulated payees",
            partial(_demo_invoices, app),
            DEMO_ACTION,
        )


async def _demo_invoices(app: Any) -> None:
    """Open the invoice screen, then its demo payees."""
    await app.run_action("new_payment")
    screen = app.screen
    if hasattr(screen, f"action_{DEMO_ACTION}"):
        await screen.run_action(DEMO_ACTION)


class ActionsProvider(Provider):
    """Every action of the app and the current screen, with its key (as Posting's palette does)."""

    async def discover(self) -> Hits:
        for command in palette_commands(self.screen, self.app):
            yield DiscoveryHit(command.text, command.run, text=command.text, help=command.help or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands(self.screen, self.app):
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.text), command.run, text=command.text, help=command.help or None
                )


__all__ = ["ActionsProvider", "PaletteCommand", "palette_commands"]
