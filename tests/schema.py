"""Validation of RPC answers against CLN's published JSON schemas (``shared/cln/schemas``).

CLN's schemas use their own type names beside JSON's (``msat``, ``u32``, ``pubkey``, ...); the checker below
teaches jsonschema those, the way pyln-testing's validator does.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft7Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "cln" / "schemas"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex(value: Any, length: int | None = None) -> bool:
    if not isinstance(value, str) or len(value) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", value):
        return False
    return length is None or len(value) == length


_SCID = r"[0-9]+x[0-9]+x[0-9]+"
CLN_TYPES = {
    "msat": lambda _, v: _is_int(v) and v >= 0,
    "sat": lambda _, v: _is_int(v) and v >= 0,
    "u64": lambda _, v: _is_int(v) and 0 <= v < 2**64,
    "u32": lambda _, v: _is_int(v) and 0 <= v < 2**32,
    "u16": lambda _, v: _is_int(v) and 0 <= v < 2**16,
    "u8": lambda _, v: _is_int(v) and 0 <= v < 2**8,
    "hex": lambda _, v: _hex(v),
    "hash": lambda _, v: _hex(v, 64),
    "secret": lambda _, v: _hex(v, 64),
    "txid": lambda _, v: _hex(v, 64),
    "pubkey": lambda _, v: _hex(v, 66) and v[:2] in ("02", "03"),
    "point32": lambda _, v: _hex(v, 64),
    "signature": lambda _, v: _hex(v),
    "bip340sig": lambda _, v: _hex(v, 128),
    "short_channel_id": lambda _, v: isinstance(v, str) and re.fullmatch(_SCID, v) is not None,
    "short_channel_id_dir": lambda _, v: isinstance(v, str) and re.fullmatch(_SCID + r"/[01]", v) is not None,
    "outpoint": lambda _, v: isinstance(v, str) and re.fullmatch(r"[0-9a-fA-F]{64}:[0-9]+", v) is not None,
    "feerate": lambda _, v: _is_int(v) or isinstance(v, str),
    "currency": lambda _, v: isinstance(v, str),
    "number": lambda _, v: isinstance(v, int | float) and not isinstance(v, bool),
    "outputdesc": lambda _, v: isinstance(v, str),
}

_checker = Draft7Validator.TYPE_CHECKER.redefine_many(CLN_TYPES)
ClnValidator = jsonschema.validators.extend(Draft7Validator, type_checker=_checker)


@cache
def command_schema(command: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{command}.json").read_text())


def response_errors(command: str, result: Any) -> list[str]:
    """Every way ``result`` breaks the response schema of ``command`` (empty when it validates)."""
    validator = ClnValidator(command_schema(command)["response"])
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(result)]


def assert_valid_response(command: str, result: Any) -> None:
    errors = response_errors(command, result)
    assert not errors, f"{command} answer breaks CLN's schema:\n" + "\n".join(errors)
