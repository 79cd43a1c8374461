"""The key footer every screen shows, rebuilt only when what it shows changes.

Textual's ``Footer`` answers every bindings update of its screen (the focus moving, a screen pushed over it or
popped off it, ``refresh_bindings``) by recomposing all its keys after the next refresh, once per update: each
``FooterKey`` is mounted again with two stylesheet applications. A payment's screens get a dozen such updates in
its first tenth of a second, most of which change nothing the footer shows, and each rebuild of a footer of ten
keys costs milliseconds of the UI thread while the parts are settling (issue 5: payment overhead).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """``Footer``, recomposed once for any number of pending bindings updates, and only if its keys changed."""

    _shown: tuple[Any, ...] | None = None
    """What the footer showed when it was last composed (None: not yet)."""
    _pending = False
    """A check is already scheduled after the next refresh."""

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self._keys_shown()
        if shown == self._shown:
            return
        previous, self._shown = self._shown, shown
        if previous is not None and self._enable_in_place(previous, shown):
            return
        await self.recompose()

    def _enable_in_place(self, previous: tuple[Any, ...], shown: tuple[Any, ...]) -> bool:
        """When only keys' enabled state changed, dim or light the keys where they are and say True: a recompose
        would lay the screen out again, and the next frame would redraw everything (issue 5: a payment's
        completion lights its "copy preimage" key)."""
        if _without_enabled(previous) != _without_enabled(shown):
            return False
        enabled = {(key[0], key[2]): key[6] for key in shown[0]}
        keys: list[Any] = list(self.query("FooterKey"))  # Textual's footer keys (the class is not exported)
        if any((key.key, key.action) not in enabled for key in keys):
            return False
        for key in keys:
            disabled = not enabled[(key.key, key.action)]
            key._disabled = disabled  # what FooterKey reads on a click; set by its constructor otherwise
            key.set_class(disabled, "-disabled")
        return True

    def _keys_shown(self) -> tuple[Any, ...]:
        """Everything ``Footer.compose`` reads: each active binding with whether it is enabled and its tooltip."""
        keys = tuple(
            (
                binding.key,
                binding.key_display,
                binding.action,
                binding.description,
                binding.show,
                binding.group,
                enabled,
                tooltip,
            )
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
        )
        return (keys, self.compact, self.show_command_palette, self.combine_groups)


def _without_enabled(shown: tuple[Any, ...]) -> tuple[Any, ...]:
    """What ``_keys_shown`` says, the keys' enabled state left out."""
    keys, *rest = shown
    return (tuple(key[:6] + key[7:] for key in keys), *rest)


__all__ = ["QuietFooter"]
