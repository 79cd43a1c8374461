"""Workarounds for Textual bugs the console runs into, applied once with :func:`apply`.

- Textual issue #6665 (open in 8.2.8): ``StylesCache.get_inner_outer`` is an instance method under ``lru_cache(1024)``,
  so the cache keeps the last 1,024 ``StylesCache`` objects alive, and with each its rendered lines (``Strip``s,
  seven small caches apiece), long after their widgets are gone. In the route editor every dialog and every route
  screen opened leaves its widgets' caches there: the heap the garbage collector walks grew by some 8,000 objects
  per route edited, and each full collection from 25 ms to 100 ms and more, a pause that lands on whatever key is
  being answered (issue 5). The two colours it is keyed on are all it needs, so the same cache without the
  instance in its key keeps what it should and nothing else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What ``StylesCache.get_inner_outer`` works out, cached by the colours alone."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(self: StylesCache, base_background: Color, background: Color) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def leaks_styles_caches() -> bool:
    """Whether this Textual's ``get_inner_outer`` is still the ``lru_cache`` that keys on the instance."""
    method: Any = StylesCache.__dict__.get("get_inner_outer")
    return method is not _get_inner_outer and hasattr(method, "cache_clear")


def apply() -> None:
    """Apply the workarounds this Textual needs (idempotent; a Textual with the bug fixed is left as it is)."""
    if leaks_styles_caches():
        StylesCache.get_inner_outer.cache_clear()  # type: ignore[attr-defined]  # let go of what it holds
        StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign]


__all__ = ["apply", "leaks_styles_caches"]
