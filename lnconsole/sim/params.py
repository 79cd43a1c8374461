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

U64_MAX = 2**64 - 1


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


def amount_token(value: Any) -> int | None:
    """A JSON token as an amount in msat: a number, or a string ``amount_to_msat`` reads; None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return amount_to_msat(value) if isinstance(value, str) else None


def fmt_msat(amount: int) -> str:
    """``fmt_amount_msat``: how lightningd writes an amount in its messages."""
    return f"{amount}msat"


def msat(name: str, value: Any) -> int:
    result = amount_token(value)
    if result is None:
        raise bad_param(name, value, "should be a millisatoshi amount")
    return result


def positive_msat_or_any(name: str, value: Any) -> int | None:
    """``param_positive_msat_or_any`` (invoice amounts): None for ``any``; zero is refused."""
    if value == "any":
        return None
    result = amount_token(value)
    if not result:
        raise bad_param(name, value, "should be positive msat or 'any'")
    return result


def digits_token(value: Any) -> int | None:
    """An unsigned integer token as ``json_to_u64`` reads it: a JSON number or a string of ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


def _unsigned(bits: int, words: str) -> Parser:
    limit = 2**bits

    def parse(name: str, value: Any) -> int:
        number = digits_token(value)
        if number is None or number >= limit:
            raise bad_param(name, value, f"should be an unsigned {words} integer")
        return number

    return parse


u16 = _unsigned(16, "16 bit")
u32 = _unsigned(32, "32 bit")
u64 = _unsigned(64, "64 bit")


def integer(name: str, value: Any) -> int:
    """``param_number``: an unsigned 32-bit integer, worded "should be an integer" (timeouts, cltv, maxhops)."""
    number = digits_token(value)
    if number is None or number >= 2**32:
        raise bad_param(name, value, "should be an integer")
    return number


def string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise bad_param(name, value, "should be a string (without \\u)")
    return value


def any_string(name: str, value: Any) -> str:
    """``param_string`` where any token is taken: strings without their quotes, other tokens as their text."""
    return value if isinstance(value, str) else token_text(value)


def strip_lightning_prefix(text: str) -> str | None:
    """``has_lightning_prefix``: the rest after ``lightning:`` or ``LIGHTNING:`` (BOLT 11's URI scheme), else None."""
    if text.startswith(("lightning:", "LIGHTNING:")):
        return text[len("lightning:") :]
    return None


def invstring(name: str, value: Any) -> str:
    """``param_invstring``: any token, made canonical (``to_canonical_invstr``: prefix dropped, lower case)."""
    text = any_string(name, value)
    stripped = strip_lightning_prefix(text)
    return (text if stripped is None else stripped).lower()


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


def scid_to_int(short_channel_id: str) -> int:
    """The 8-byte wire form of a short_channel_id (block << 40 | tx << 16 | output)."""
    block, tx, out = (int(part) for part in short_channel_id.split("x"))
    return (block << 40) | (tx << 16) | out


def int_to_scid(value: int) -> str:
    return f"{value >> 40}x{(value >> 16) & 0xFFFFFF}x{value & 0xFFFF}"


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


def one_of(*choices: str, should_be: str) -> Parser:
    def parse(name: str, value: Any) -> str:
        if value not in choices:
            raise bad_param(name, value, should_be)
        return value

    return parse
