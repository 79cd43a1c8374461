"""What every console screen that runs workers shares: its workers' errors reach the app's one handler.

A worker reports its state to the DOM node that started it, and ``Worker.StateChanged`` does not bubble, so the
app's handler (:meth:`lnconsole.app.LnConsoleApp._worker_failed`, which turns any error into a notification and
never a traceback) would hear only about the app's own workers. Screens derive from :class:`ConsoleScreen`, which
hands every failed worker on to the app; a screen may still say the error in place with its own handler.
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.screen import Screen
from textual.worker import Worker, WorkerState

ScreenResult = TypeVar("ScreenResult")


class ConsoleScreen(Screen[ScreenResult]):
    """A screen whose failed workers are reported by the app, like the app's own."""

    @on(Worker.StateChanged)
    def _hand_worker_error_to_app(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.post_message(Worker.StateChanged(event.worker, event.state))


__all__ = ["ConsoleScreen"]
