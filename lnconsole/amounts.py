"""Amounts as users type them and as the console shows them: always int millisatoshi, never floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pyln.client import Millisatoshi

MSAT_PER_SAT = 1000
MSAT_PER_BTC = 100_000_000_000
MAX_MSAT = 21_000_000 * MSAT_PER_BTC
"""No amount can exceed all bitcoin that will ever exist; anything above is a typo."""

_PLAIN_NUMBER = re.compile(r"^[0-9]+$")
_UNIT_NUMBER = re.compile(r"^(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?(?P<unit>msat|sat|btc)$")
_DECIMALS = {"msat": 0, "sat": 3, "btc": 11}
"""Decimals each unit can carry before they are finer than a millisatoshi."""
_MAX_DIGITS = 20
"""A whole part longer than this is more than 21 million bitcoin in any unit (and beyond int() limits)."""
_FORMATS = "1000, 1000msat, 10sat, 10.000sat or 0.0001btc"


class AmountError(ValueError):
    """An amount the user typed that is not one (the message says why and which formats work)."""


def quoted(text: str, limit: int = 40) -> str:
    """User text as a message quotes it: stripped, control characters escaped (a message may reach a terminal),
    and cut in the middle when long (a pasted page must not become a page-long message)."""
    text = str(text).strip()
    if len(text) > limit:
        text = f"{text[: limit - 10]}…{text[-6:]}"
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return f"'{shown}'"


def parse_amount(text: str) -> int:
    """Parse a CLN amount (``1000``, ``1000msat``, ``10sat``, ``10.000sat``, ``0.0001btc``) to msat.

    A bare number is millisatoshi, as in lightningd's parameters. pyln-client's ``Millisatoshi`` does the
    unit arithmetic; this adds the bare-number form and messages a user can act on.
    """
    cleaned = text.strip().replace("_", "").replace(" ", "").lower()
    if not cleaned:
        raise AmountError(f"Enter an amount: {_FORMATS}.")
    if _PLAIN_NUMBER.match(cleaned):
        if len(cleaned.lstrip("0")) > _MAX_DIGITS:
            raise AmountError(f"{quoted(text)} is more than 21 million bitcoin.")
        value = int(cleaned)
    else:
        match = _UNIT_NUMBER.match(cleaned)
        if match is None:
            raise AmountError(f"{quoted(text)} is not an amount: use {_FORMATS}.")
        whole, fraction, unit = match["whole"], match["fraction"] or "", match["unit"]
        if len(whole.lstrip("0")) > _MAX_DIGITS:
            raise AmountError(f"{quoted(text)} is more than 21 million bitcoin.")
        if len(fraction.rstrip("0")) > _DECIMALS[unit]:
            finest = "no decimals of msat" if unit == "msat" else f"at most {_DECIMALS[unit]} decimals of {unit}"
            raise AmountError(f"{quoted(text)} is finer than a millisatoshi: use {finest}.")
        try:
            # The checks above keep the figure within Decimal's 28 digits, so Millisatoshi's arithmetic is exact.
            value = int(Millisatoshi(f"{whole}.{fraction.rstrip('0') or '0'}{unit}"))
        except (TypeError, ValueError, InvalidOperation) as error:
            raise AmountError(f"{quoted(text)} is not an amount: use {_FORMATS}.") from error
    if value > MAX_MSAT:
        raise AmountError(f"{quoted(text)} is more than 21 million bitcoin.")
    return value


def format_msat(amount_msat: int) -> str:
    """Amounts as CLN writes them, exact and parseable back: ``12sat``, ``12.345sat``."""
    sats, msats = divmod(amount_msat, MSAT_PER_SAT)
    return f"{sats}.{msats:03d}sat" if msats else f"{sats}sat"


def format_sat(amount_msat: int) -> str:
    """A human figure in satoshi with thousands separators and msat precision: ``1,234.567 sat``."""
    sats, msats = divmod(amount_msat, MSAT_PER_SAT)
    return f"{sats:,}.{msats:03d} sat" if msats else f"{sats:,} sat"


def fee_ppm(fee_msat: int, amount_msat: int) -> int:
    """A fee as parts per million of the amount (0 for a zero amount), rounded down."""
    return fee_msat * 1_000_000 // amount_msat if amount_msat else 0


def btc_text(amount_msat: int) -> str:
    """The amount in BTC with all 11 decimals that msat precision needs, trailing zeros removed."""
    text = format(Decimal(amount_msat) / MSAT_PER_BTC, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "btc"
