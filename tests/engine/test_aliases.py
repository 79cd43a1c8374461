"""Many aliases at once (the insert-hop dialog's candidates): one ``listnodes <id>`` per node not cached yet, asked
in parallel, never the whole graph; cached answers asked again cost nothing; a failed lookup is raised."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from lnconsole.graph import PARALLEL_LOOKUPS, Aliases
from lnconsole.node import NodeError, NodeSummary

NODES = [f"02{index:064x}" for index in range(40)]


class Listnodes:
    """Answers ``listnodes <id>`` from a table; records each call and how many ran at once."""

    def __init__(self, aliases: dict[str, str], fail: str | None = None) -> None:
        self.aliases = aliases
        self.fail = fail
        self.calls: list[str | None] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self._wait = threading.Barrier(2, timeout=0.2)

    def listnodes(self, node_id: str | None = None) -> list[NodeSummary]:
        with self._lock:
            self.calls.append(node_id)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                self._wait.wait()  # two lookups meet here if they run in parallel
            if node_id == self.fail:
                raise NodeError("listnodes", -32602, "no such node")
            alias = self.aliases.get(node_id or "")
            return [NodeSummary(node_id=node_id or "", alias=alias, color="")] if alias is not None else []
        finally:
            with self._lock:
                self.running -= 1


def test_many_aliases_are_looked_up_once_each_and_in_parallel() -> None:
    known = {node: f"node-{index}" for index, node in enumerate(NODES) if index % 4}  # a quarter has no alias
    node = Listnodes(known)
    aliases = Aliases(node)  # type: ignore[arg-type]
    aliases.remember(NODES[1], "cached")

    found = aliases.look_up([*NODES, NODES[2]])  # a node twice is asked once

    assert found == {node_id: ("cached" if node_id == NODES[1] else known.get(node_id, "")) for node_id in NODES}
    assert sorted(node.calls) == sorted(set(NODES) - {NODES[1]})  # one call per node not cached, never all nodes
    assert None not in node.calls
    assert 2 <= node.most_at_once <= PARALLEL_LOOKUPS

    node.calls.clear()
    assert aliases.look_up(NODES[:10]) == {node_id: found[node_id] for node_id in NODES[:10]}
    assert node.calls == []  # all cached now


def test_a_failed_lookup_is_raised() -> None:
    node = Listnodes({}, fail=NODES[7])
    with pytest.raises(NodeError) as raised:
        Aliases(node).look_up(NODES[:12])  # type: ignore[arg-type]
    assert raised.value.code == -32602


def test_one_alias_needs_no_thread() -> None:
    node = Listnodes({NODES[0]: "solo"})
    threads: list[Any] = []
    original = threading.Thread.start

    def counting(thread: threading.Thread) -> None:
        threads.append(thread)
        original(thread)

    threading.Thread.start = counting  # type: ignore[method-assign]
    try:
        assert Aliases(node).look_up([NODES[0]]) == {NODES[0]: "solo"}  # type: ignore[arg-type]
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    assert threads == [] and node.calls == [NODES[0]]
