"""The table of RPC commands the simulated node answers.

Each command module declares its commands with :func:`rpc_command`; importing :mod:`lnconsole.sim.commands`
loads them all. A handler gets the call's context (the node and the connection) and the parsed parameters, and
returns the ``result`` object or raises :class:`~lnconsole.sim.errors.RpcFault`. Handlers run on the server's
event loop, which owns all simulator state, so they need no locks; a handler that waits (``waitsendpay``) is a
coroutine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .params import Param

if TYPE_CHECKING:
    from .node import SimNode

Result = dict[str, Any]
Handler = Callable[["CallContext", dict[str, Any]], "Result | Awaitable[Result]"]


@dataclass
class Connection:
    """Per-connection settings, as lightningd keeps them (``deprecations`` switches apply to one connection)."""

    deprecated_apis: bool = True


@dataclass
class CallContext:
    """What a handler may use: the simulated node and the connection the request came on."""

    node: SimNode
    connection: Connection = field(default_factory=Connection)


@dataclass(frozen=True)
class Command:
    """A registered RPC command."""

    name: str
    params: tuple[Param, ...]
    handler: Handler
    deprecated: bool = False
    """Answered only while deprecated APIs are on (``getroute``, deprecated in v26.06). A ``legacy`` node applies
    it too, although v24.08 had not deprecated getroute yet: ``--legacy --no-deprecated-apis`` is how a test
    gets a node with neither getroutes nor getroute."""
    generation: str = "any"
    """``current`` (v26.06 only, e.g. ``getroutes``), ``legacy`` (old nodes only, e.g. ``decodepay``) or ``any``."""
    raw_params: bool = False
    """The handler parses ``params`` itself (given as the request sent them)."""


COMMANDS: dict[str, Command] = {}


def rpc_command(
    name: str,
    params: Sequence[Param] = (),
    *,
    deprecated: bool = False,
    generation: str = "any",
    raw_params: bool = False,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the RPC command ``name``."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command {name} registered twice")
        COMMANDS[name] = Command(name, tuple(params), handler, deprecated, generation, raw_params)
        return handler

    return register
