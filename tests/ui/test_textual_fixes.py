"""The Textual workarounds (lnconsole/widgets/textual_fixes.py): what they fix, on Textual's own objects."""

from __future__ import annotations

import functools
import gc
import weakref

import pytest
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

from lnconsole.widgets import textual_fixes

BASE, TINT = Color(10, 20, 30), Color(200, 100, 50, 0.5)


def test_a_styles_cache_is_not_kept_alive_by_get_inner_outer() -> None:
    """Textual #6665: the lru_cache of get_inner_outer kept every StylesCache (and its lines) it was called on."""
    textual_fixes.apply()
    assert not textual_fixes.leaks_styles_caches()
    cache = StylesCache()
    gone = weakref.ref(cache)
    inner, outer = cache.get_inner_outer(BASE, TINT)
    del cache
    gc.collect()
    assert gone() is None
    # The same answer as Textual's, and cached by the colours: the same objects for any instance.
    assert (inner, outer) == (Style(background=BASE + TINT), Style(background=BASE))
    again = StylesCache().get_inner_outer(BASE, TINT)
    assert again[0] is inner and again[1] is outer


def test_applying_twice_changes_nothing() -> None:
    textual_fixes.apply()
    method = StylesCache.__dict__["get_inner_outer"]
    textual_fixes.apply()
    assert StylesCache.__dict__["get_inner_outer"] is method


def test_the_app_applies_it_when_it_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every screen leaks without it, the first one too: the app applies it before it builds anything."""
    from lnconsole.app import LnConsoleApp

    leaking = functools.lru_cache(1024)(lambda self, base, background: (Style(), Style()))
    monkeypatch.setattr(StylesCache, "get_inner_outer", leaking)  # as Textual 8.2.8 has it
    assert textual_fixes.leaks_styles_caches()
    LnConsoleApp(node=None)  # type: ignore[arg-type]  # the node is not asked anything before the app runs
    assert not textual_fixes.leaks_styles_caches()
