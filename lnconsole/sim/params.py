"""Parameter parsing with lightningd's rules and wording (common/json_param.c).

lightningd takes parameters by name (an object) or by position (an array), runs each parameter's parser in the
order the request gives them, refuses unknown names, then checks the required ones in declaration order. Its
errors read ``NAME: should be ...: invalid token 'TOKEN'`` (developer mode, as on regtest), which the console
shows to the user, so the simulator repeats them word for word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coincurve import PublicKey

from .errors import invalid_params

Parser = Callable[[str, Any], Any]
"""A parser takes the parameter's name and its JSON value, and returns the parsed value or raises RpcFault."""


@dataclass(frozen=True)
class Param:
    """One declared parameter of a command."""

    name: str
    parse: Parser
    required: bool = False
    default: Any = None


def token_text(value: Any) -> str:
    """The JSON token as lightningd quotes it in errors: strings keep their quotes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def bad_param(name: str, value: Any, should_be: str) -> Exception:
    return invalid_params(f"{name}: {should_be}: invalid token '{token_text(value)}'")


def parse_params(params: Any, declared: Sequence[Param]) -> dict[str, Any]:
    """Parse a request's params against the declared list, as lightningd's param() does."""
    parsed: dict[str, Any] = {}
    if params is None:
        params = {}
    if isinstance(params, list):
        if len(params) > len(declared):
            raise invalid_params(f"too many parameters: got {len(params)}, expected {len(declared)}")
        for spec, value in zip(declared, params, strict=False):
            if value is not None:
                parsed[spec.name] = spec.parse(spec.name, value)
    elif isinstance(params, dict):
        by_name = {spec.name: spec for spec in declared}
        for name, value in params.items():
            spec = by_name.get(name)
            if spec is None:
                raise invalid_params(
                    f"unknown parameter: {name}, this may be caused by a failure to autodetect key=value-style "
                    "parameters. Please try using the -k flag and explicit key=value pairs of parameters."
                )
            parsed[name] = spec.parse(name, value)
    else:
        raise invalid_params("Expected array or object for params")
    for spec in declared:
        if spec.name not in parsed:
            if spec.required:
                raise invalid_params(f"missing required parameter: {spec.name}")
            parsed[spec.name] = spec.default
    return parsed


# ---------------------------------------------------------------------------------------------------------------
# Value parsers. Each mirrors the json_param.c function of the same role.

_AMOUNT = re.compile(r"^(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]+))?(?P<suffix>[a-z]*)$")


def amount_to_msat(text: str) -> int | None:
    """Parse a CLN amount string (``1000``, ``1000msat``, ``10sat``, ``10.000sat``, ``0.0001btc``) to msat.

    Returns None when the text is not an amount. ``N.nnnsat`` (three decimals) is accepted as the sendpay man
    page documents it.
    """
    match = _AMOUNT.match(text)
    if match is None:
        return None
    whole, frac, suffix = match["whole"], match["frac"], match["suffix"]
    if suffix in ("", "msat") and frac is None:
        value = int(whole)
    elif suffix == "sat" and frac is None:
        value = int(whole) * 1000
    elif suffix == "sat" and frac is not None and len(frac) == 3:
        value = int(whole) * 1000 + int(frac)
    elif suffix == "btc" and (frac is None or len(frac) <= 11):
        value = int(whole) * 100_000_000_000 + (int(frac.ljust(11, "0")) if frac else 0)
    else:
        return None
    return value if value < 2**64 else None


def msat(name: str, value: Any) -> int:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    result = amount_to_msat(text) if isinstance(text, str) else None
    if result is None:
        raise bad_param(name, value, "should be a millisatoshi amount")
    return result


def msat_or_any(name: str, value: Any) -> int | None:
    if value == "any":
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    result = amount_to_msat(text) if isinstance(text, str) else None
    if result is None:
        raise bad_param(name, value, "should be positive msat or 'any'")
    return result


def _unsigned(bits: int, words: str) -> Parser:
    limit = 2**bits

    def parse(name: str, value: Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.isdigit():
            number = int(value)
        if number is None or not 0 <= number < limit:
            raise bad_param(name, value, f"should be an unsigned {words} integer")
        return number

    return parse


u16 = _unsigned(16, "16 bit")
u32 = _unsigned(32, "32 bit")
u64 = _unsigned(64, "64 bit")


def number(name: str, value: Any) -> float:
    """A non-negative floating-point number (riskfactor, fuzzpercent)."""
    try:
        result = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        result = -1.0
    if result < 0 or result != result:
        raise bad_param(name, value, "should be a non-negative floating-point number")
    return result


def string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise bad_param(name, value, "should be a string (without \\u)")
    return value


def label(name: str, value: Any) -> str:
    """Labels may be strings or numbers; numbers become their decimal text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return token_text(value)
    raise bad_param(name, value, "should be a string or number")


def boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise bad_param(name, value, "should be 'true' or 'false'")


_HEX32 = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise bad_param(name, value, "should be a 32 byte hex value")
    return value.lower()


secret = sha256


def hex_string(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", value):
        raise bad_param(name, value, "should be a hex value")
    return value.lower()


def is_node_id(value: Any) -> bool:
    """A node id is a valid compressed secp256k1 point, as node_id_from_hexstr checks."""
    if not isinstance(value, str) or len(value) != 66 or value[:2] not in ("02", "03"):
        return False
    try:
        PublicKey(bytes.fromhex(value))
    except ValueError:
        return False
    return True


def node_id(name: str, value: Any) -> str:
    if not is_node_id(value):
        raise bad_param(name, value, "should be a node id")
    return value.lower()


_SCID = re.compile(r"^([0-9]+)x([0-9]+)x([0-9]+)$")


def is_short_channel_id(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = _SCID.match(value)
    return bool(match) and int(match[1]) < 2**24 and int(match[2]) < 2**24 and int(match[3]) < 2**16


def short_channel_id(name: str, value: Any) -> str:
    if not is_short_channel_id(value):
        raise bad_param(name, value, "should be a short_channel_id of form NxNxN")
    return value


def split_scid_dir(value: Any) -> tuple[str, int] | None:
    """``103x1x0/1`` -> ("103x1x0", 1), or None when it is not a short_channel_id_dir."""
    if not isinstance(value, str) or "/" not in value:
        return None
    scid, _, direction = value.partition("/")
    if not is_short_channel_id(scid) or direction not in ("0", "1"):
        return None
    return scid, int(direction)


def short_channel_id_dir(name: str, value: Any) -> tuple[str, int]:
    result = split_scid_dir(value)
    if result is None:
        raise bad_param(name, value, "should be a short_channel_id_dir of form NxNxN/N")
    return result


def array(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise bad_param(name, value, "should be an array")
    return value


def array_of(item: Parser, should_be: str = "should be an array") -> Parser:
    """An array whose items each go through ``item`` (named ``name[i]`` in errors)."""

    def parse(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise bad_param(name, value, should_be)
        return [item(f"{name}[{i}]", entry) for i, entry in enumerate(value)]

    return parse


def one_of(*choices: str, should_be: str) -> Parser:
    def parse(name: str, value: Any) -> str:
        if value not in choices:
            raise bad_param(name, value, should_be)
        return value

    return parse


def anything(name: str, value: Any) -> Any:
    return value
