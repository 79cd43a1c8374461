"""Imports every module that registers RPC commands, so that the server knows them all."""

from . import (  # noqa: F401
    devsim,
    info,
    layers,
    payments,
    routing,
)
