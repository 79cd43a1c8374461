"""lightningd's reply filter: a request's top-level ``"filter"`` object names the fields of the result to keep.

Any command takes it (``lightning-cli -k listchannels source=... filter='{"channels":[{"destination":true}]}'``,
pyln-client's ``call(method, payload, filter=...)``), and lightningd keeps only what it names as it writes the
answer (common/json_filter.c, common/json_stream.c): ``true`` keeps a member whole, an object keeps the members it
names, an array's one element applies to every element. An object filter met by an array (or an array filter met by
an object) keeps nothing there and adds ``warning_parameter_filter`` to the result, e.g. ``.fallbacks is an array``.
Errors are never filtered.

The writer is ported as lightningd runs it, a cursor moving down and up a filter tree with a depth counter, so that
its corner cases come out the same: a leaf (``true``) entered as an object member keeps that object's nested objects
and arrays but not its plain members, and after a member was dropped the plain values of an array are dropped too.
"""

from __future__ import annotations

from typing import Any

from .params import bad_param


class _Filter:
    """One node of the filter tree (json_filter.c's ``struct json_filter``)."""

    __slots__ = ("array", "depth", "members", "misused", "parent", "positive")

    def __init__(self, parent: _Filter | None = None) -> None:
        self.parent = parent
        self.misused = False
        """Set when an object filter met an array or an array filter met an object."""
        self.depth = 0
        """How far into a kept (or dropped) subtree the writer is: 0 while it follows this node's members."""
        self.positive = True
        self.array: _Filter | None = None
        self.members: dict[str, _Filter] = {}

    @property
    def leaf(self) -> bool:
        return self.array is None and not self.members

    def misuse(self) -> str | None:
        """json_filter_misused: where the filter did not fit the answer (members in sorted order), or None."""
        if self.misused:
            return " is an object" if self.array is not None else " is an array"
        if self.array is not None:
            found = self.array.misuse()
            return None if found is None else f"[]{found}"
        for name in sorted(self.members):
            found = self.members[name].misuse()
            if found is not None:
                return f".{name}{found}"
        return None


def parse_filter(value: Any) -> _Filter:
    """The filter tree of a request's ``filter`` member; raises lightningd's -32602 when it is malformed."""
    if not isinstance(value, dict):
        raise bad_param("filter", value, "Expected object")
    root = _Filter()
    _build(root, value)
    return root


def _build(node: _Filter, value: dict[str, Any] | list[Any]) -> None:
    if isinstance(value, list):
        if len(value) != 1:
            raise bad_param("filter", value, "Arrays can only have one element")
        node.array = _Filter(node)
        element = value[0]
        if isinstance(element, dict | list):
            _build(node.array, element)
        # lightningd walks an array's single primitive element as an empty object: a leaf
        return
    for name, member in value.items():
        child = _Filter(node)
        node.members[name] = child
        if isinstance(member, dict | list):
            _build(child, member)
        elif member is not True:
            raise bad_param("filter", member, "value must be true")


class _Writer:
    """Walks a result as lightningd writes it, the cursor on the filter tree moving with it."""

    def __init__(self, root: _Filter) -> None:
        self.at = root

    def _ok(self, member: str | None) -> bool:
        """json_filter_ok: whether a plain value is written."""
        at = self.at
        if at.depth > 0 or member is None:
            return at.positive
        return member in at.members

    def _down(self, member: str | None) -> bool:
        """json_filter_down: entering an object or array; whether it is written."""
        at = self.at
        if at.depth > 0:
            at.depth += 1
            return at.positive
        if at.leaf:
            at.depth = 1
            return True
        child: _Filter | None
        if member is None:
            child = at.array
            if child is None:
                at.misused = True
        else:
            child = None if at.array is not None else at.members.get(member)
            if at.array is not None:
                at.misused = True
        if child is not None:
            self.at = child
            return True
        at.positive = False
        at.depth = 1
        return False

    def _up(self) -> None:
        """json_filter_up: leaving an object or array."""
        at = self.at
        if at.depth == 0:
            assert at.parent is not None
            at.positive = True
            self.at = at.parent
            return
        at.depth -= 1

    def value(self, member: str | None, value: Any) -> tuple[bool, Any]:
        """(written?, what is written) for one member (``member`` None: an array's element)."""
        if not isinstance(value, dict | list):
            return self._ok(member), value
        kept = self._down(member)
        if not kept or self.at.depth > 0:  # dropped whole, or inside a leaf: kept whole
            self._up()
            return kept, value
        if isinstance(value, dict):
            members = self.at.members  # the cursor is back here, at depth 0, after each inner object or array
            written: Any = {}
            for name, inner in value.items():
                if isinstance(inner, dict | list):
                    keep, shown = self.value(name, inner)
                    if keep:
                        written[name] = shown
                elif name in members:  # json_filter_ok at depth 0
                    written[name] = inner
        else:
            written = []
            for inner in value:
                keep, shown = self.value(None, inner)
                if keep:
                    written.append(shown)
        self._up()
        return True, written


def apply_filter(root: _Filter, result: dict[str, Any]) -> dict[str, Any]:
    """The result as lightningd writes it through ``root`` (the filter is used once: parse it per request)."""
    writer = _Writer(root)
    filtered: dict[str, Any] = {}
    for name, value in result.items():
        keep, shown = writer.value(name, value)
        if keep:
            filtered[name] = shown
    misuse = root.misuse()
    if misuse is not None:
        filtered["warning_parameter_filter"] = misuse
    return filtered


__all__ = ["apply_filter", "parse_filter"]
