"""A pasted BOLT11 invoice: decoded, checked and made ready to pay, or refused with a reason a user can act on.

Decoding uses the ``bolt11`` library (bech32 checksum, signature recovery or verification against the ``n``
field, the tagged fields). The library has gaps that a payment console cannot live with, so the text is first
walked here at the 5-bit level (the invoice's structure, field lengths, the hrp amount) and the library's answer
is checked afterwards: it accepts mixed case and sub-millisatoshi amounts that BOLT 11 forbids, reads route hint
fees as signed numbers, cannot name regtest/signet fallback addresses, and raises a plain ``ValueError`` on a
zero-length ``x`` or ``c`` field (lightningd writes ``expiry 0`` that way). Such an invoice is reported as
``InvoiceError(unsupported=True)`` and :func:`load_invoice` then takes the node's own ``decode`` instead.

:func:`decode_invoice` raises :class:`InvoiceError` only for text that is not a valid invoice (bad checksum,
bad signature, malformed). Everything else that stands between an invoice and a payment (wrong network,
expired, no amount, no payment_secret, an unknown required feature) is a *problem* in an :class:`InvoiceCheck`,
so a screen can show the invoice and say why it won't be paid.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod, convertbits
from coincurve import PublicKey

from .amounts import MAX_MSAT, AmountError, format_msat, parse_amount
from .node import METHOD_NOT_FOUND, NodeClient, NodeError, NodeUnreachable, printable

if TYPE_CHECKING:
    import bolt11

# lightning hrp currency -> (network, on-chain segwit hrp, p2pkh version byte, p2sh version byte): chainparams.c
CURRENCIES: dict[str, tuple[str, str, int, int]] = {
    "bc": ("bitcoin", "bc", 0, 5),
    "tb": ("testnet", "tb", 111, 196),
    "tbs": ("signet", "tb", 111, 196),
    "bcrt": ("regtest", "bcrt", 111, 196),
}
NETWORK_PREFIXES = {"bitcoin": "lnbc", "testnet": "lntb", "signet": "lntbs", "regtest": "lnbcrt"}
_NODE_NETWORKS = {
    "bitcoin": "bitcoin",
    "mainnet": "bitcoin",
    "testnet": "testnet",
    "testnet4": "testnet",
    "signet": "signet",
    "regtest": "regtest",
}
"""A node's ``getinfo.network`` -> the invoice network it pays (testnet4 invoices use ``lntb`` too)."""

DEFAULT_EXPIRY = 3600
"""BOLT 11: an invoice without an ``x`` field expires an hour after it was created."""
DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18
"""BOLT 11: the final CLTV delta of an invoice without a ``c`` field."""
OVERPAY_WARNING_FACTOR = 2
"""Paying more than this many times the invoice amount is almost always a typo."""

_SIGNATURE_U5 = 104
"""65 bytes (r, s, recovery id) take 104 five-bit words at the end of the data part."""
_TIMESTAMP_U5 = 7
_BECH32M_CONST = 0x2BC830A3
_MULTIPLIERS = {"m": 10**8, "u": 10**5, "n": 10**2, "p": None}
"""msat per unit of each multiplier letter (``p`` is a tenth of a msat: handled apart)."""
_FORMATS = "1000, 1000msat, 10sat, 10.000sat or 0.0001btc"

# BOLT 9 features that may appear in an invoice (the ``9`` field), by their even bit.
FEATURE_NAMES: dict[int, str] = {
    8: "var_onion_optin",
    14: "payment_secret",
    16: "basic_mpp",
    24: "option_route_blinding",
    48: "option_payment_metadata",
}
"""The invoice features the console understands; an invoice that *requires* any other even bit is refused."""


class InvoiceError(ValueError):
    """Text that is not a payable BOLT11 invoice at all; ``reason`` says why, in words a user can act on.

    ``unsupported`` marks a valid-looking invoice this console's decoder cannot read (a ``bolt11`` library
    limitation): the node's own ``decode`` may still read it.
    """

    def __init__(self, reason: str, *, unsupported: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsupported = unsupported


# ---------------------------------------------------------------------------------------------------------------
# The decoded invoice


@dataclass(frozen=True)
class HintHop:
    """One hop of an invoice route hint: the channel from ``node_id`` towards the payee, and its policy."""

    node_id: str
    short_channel_id: str
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int

    def fee_for(self, amount_msat: int) -> int:
        """What ``node_id`` charges to forward ``amount_msat`` over the hinted channel (BOLT 7)."""
        return self.fee_base_msat + amount_msat * self.fee_proportional_millionths // 1_000_000


@dataclass(frozen=True)
class InvoiceFeature:
    """One feature bit set in the invoice's ``9`` field."""

    bit: int
    name: str
    """The BOLT 9 name, or ``unknown_N`` (N the bit)."""
    required: bool
    """Even bit: the payer must understand it. Odd: optional."""
    known: bool


@dataclass(frozen=True)
class FallbackAddress:
    """An on-chain address the payee offers if the payment cannot go over Lightning."""

    version: int
    """17 P2PKH, 18 P2SH, else the witness version."""
    program: str
    """The hash or witness program, hex."""
    address: str | None
    """The address on the invoice's network; None if the version is unknown or the program malformed."""


@dataclass(frozen=True)
class Invoice:
    """Every field of a BOLT11 invoice a payer cares about, in CLN's vocabulary."""

    bolt11: str
    """The invoice text, cleaned (lower case, no prefix or whitespace): what ``sendpay`` gets as ``bolt11``."""
    network: str
    """bitcoin, testnet, signet or regtest (from the ``lnbc``/``lntb``/``lntbs``/``lnbcrt`` prefix)."""
    currency: str
    """The hrp currency: bc, tb, tbs or bcrt (CLN ``decode``'s ``currency``)."""
    payee: str
    amount_msat: int | None
    """None when the invoice lets the payer choose (no amount, or 0)."""
    description: str | None
    description_hash: str | None
    created_at: int
    expiry: int
    min_final_cltv_expiry: int
    payment_hash: str
    payment_secret: str | None
    features_hex: str
    """The ``9`` field as CLN's ``decode`` shows it ("02024100"); empty when absent."""
    features: tuple[InvoiceFeature, ...] = ()
    route_hints: tuple[tuple[HintHop, ...], ...] = ()
    fallbacks: tuple[FallbackAddress, ...] = ()
    payment_metadata: str | None = None
    signature: str = ""
    """r and s, hex (64 bytes); empty when the invoice came from the node's decode."""

    @property
    def expires_at(self) -> int:
        return self.created_at + self.expiry

    def time_left(self, now: int) -> int:
        """Seconds until the invoice expires (negative once it has)."""
        return self.expires_at - now

    def is_expired(self, now: int) -> bool:
        """As lightningd's ``pay`` decides: expired once ``now`` is past ``created_at + expiry``."""
        return now > self.expires_at

    def has_feature(self, name: str) -> bool:
        return any(feature.name == name for feature in self.features)

    @property
    def supports_mpp(self) -> bool:
        """The payee takes a payment split in parts (basic_mpp), which also needs its payment_secret."""
        return self.has_feature("basic_mpp") and self.payment_secret is not None

    @property
    def unknown_required_features(self) -> tuple[int, ...]:
        return tuple(feature.bit for feature in self.features if feature.required and not feature.known)

    @classmethod
    def from_node_decode(cls, answer: Mapping[str, Any], bolt11_text: str) -> Invoice:
        """An Invoice from a node's ``decode`` (or legacy ``decodepay``) answer, for invoices we can't read."""
        currency = str(answer.get("currency", ""))
        network = CURRENCIES.get(currency, (currency, "", 0, 0))[0]
        features_hex = str(answer.get("features", ""))
        amount = _node_amount(answer)
        hints = tuple(
            tuple(
                HintHop(
                    node_id=str(hop.get("pubkey", "")),
                    short_channel_id=str(hop.get("short_channel_id", "")),
                    fee_base_msat=int(_node_msat(hop.get("fee_base_msat", 0))),
                    fee_proportional_millionths=int(hop.get("fee_proportional_millionths", 0)),
                    cltv_expiry_delta=int(hop.get("cltv_expiry_delta", 0)),
                )
                for hop in route
            )
            for route in answer.get("routes", []) or []
        )
        fallbacks = tuple(
            FallbackAddress(version=-1, program=str(fallback.get("hex", "")), address=fallback.get("addr"))
            for fallback in answer.get("fallbacks", []) or []
        )
        return cls(
            bolt11=bolt11_text,
            network=network,
            currency=currency,
            payee=str(answer.get("payee", "")),
            amount_msat=amount or None,
            description=printable(str(answer["description"])) if answer.get("description") is not None else None,
            description_hash=answer.get("description_hash"),
            created_at=int(answer.get("created_at", 0)),
            expiry=int(answer.get("expiry", DEFAULT_EXPIRY)),
            min_final_cltv_expiry=int(answer.get("min_final_cltv_expiry", DEFAULT_MIN_FINAL_CLTV_EXPIRY)),
            payment_hash=str(answer.get("payment_hash", "")),
            payment_secret=answer.get("payment_secret"),
            features_hex=features_hex,
            features=_features_of(int(features_hex, 16) if _is_hex(features_hex) and features_hex else 0),
            route_hints=hints,
            fallbacks=fallbacks,
            payment_metadata=answer.get("payment_metadata"),
        )


# ---------------------------------------------------------------------------------------------------------------
# Cleaning and decoding


_PREFIX = re.compile(r"^lightning:(//)?", re.IGNORECASE)


def clean_invoice_text(text: str) -> str:
    """The invoice inside pasted text: no whitespace anywhere, no ``lightning:`` URI prefix, lower case."""
    squeezed = "".join(str(text).split())
    return _PREFIX.sub("", squeezed).lower()


def decode_invoice(text: str) -> Invoice:
    """Decode and verify a pasted BOLT11 invoice; InvoiceError (with a reason) if it is not a valid one."""
    if not isinstance(text, str):
        raise InvoiceError("not a BOLT11 invoice: expected text")
    original = _PREFIX.sub("", "".join(text.split()))
    cleaned = original.lower()
    if not cleaned:
        raise InvoiceError("nothing to decode: paste a BOLT11 invoice (lnbc..., lntb..., lntbs... or lnbcrt...)")
    if original != cleaned and original != original.upper():
        raise InvoiceError("not a BOLT11 invoice (it mixes upper and lower case: an invoice is all one case)")
    hrp, data = _bech32_parts(cleaned)
    currency, amount_msat = _parse_hrp(hrp)
    fields = _walk_fields(data)

    # The bolt11 library (with bitstring) loads with the first invoice, not before the first screen (issue 5).
    import bolt11
    from bolt11.exceptions import Bolt11Exception, Bolt11SignatureTooShortException, Bolt11SignatureVerifyException

    try:
        decoded = bolt11.decode(cleaned, ignore_exceptions=True)
    except Bolt11SignatureVerifyException as error:
        raise InvoiceError("the signature does not match the payee named in the invoice (n field)") from error
    except Bolt11SignatureTooShortException as error:
        raise InvoiceError("not a BOLT11 invoice (too short to hold a signature: was it cut off?)") from error
    except UnicodeDecodeError as error:
        raise InvoiceError("the invoice's description is not valid UTF-8 text") from error
    except Bolt11Exception as error:
        raise InvoiceError(f"not a BOLT11 invoice ({error})") from error
    except ValueError as error:
        text_of = str(error).lower()
        if "recover" in text_of or "recovery id" in text_of or "signature" in text_of:
            raise InvoiceError("the signature cannot be verified: the invoice was altered or is corrupt") from error
        if "zero length" in text_of:
            raise InvoiceError(
                "this invoice has an empty field (such as expiry 0) that the console's decoder cannot read",
                unsupported=True,
            ) from error
        raise InvoiceError(f"the console's decoder cannot read this invoice ({error})", unsupported=True) from error
    except Exception as error:  # the library raises bitstring, struct and coincurve errors on odd input
        raise InvoiceError(
            f"the console's decoder cannot read this invoice ({type(error).__name__}: {error})", unsupported=True
        ) from error
    return _invoice_from(decoded, cleaned, currency, amount_msat, fields)


def _bech32_parts(text: str) -> tuple[str, list[int]]:
    """The hrp and 5-bit data (checksum removed) of a bech32 string, with a precise complaint if it isn't one."""
    if not text.startswith("ln"):
        raise InvoiceError(
            "not a BOLT11 invoice: it should start with lnbc (bitcoin), lntb (testnet), lntbs (signet) "
            "or lnbcrt (regtest)"
        )
    if text.startswith(("lno1", "lni1", "lnr1")):
        raise InvoiceError("this is a BOLT12 offer or invoice, not BOLT11: this console pays BOLT11 invoices")
    position = text.rfind("1")
    if position < 3:
        raise InvoiceError("not a BOLT11 invoice (no '1' separator after the lnbc... prefix)")
    hrp, rest = text[:position], text[position + 1 :]
    if any(ord(char) < 33 or ord(char) > 126 for char in hrp):
        raise InvoiceError("not a BOLT11 invoice (it contains characters that cannot appear in one)")
    bad = sorted({char for char in rest if char not in CHARSET})
    if bad:
        shown = ", ".join(repr(char) for char in bad[:5])
        raise InvoiceError(f"not a BOLT11 invoice (it contains {shown}, which cannot appear after the '1')")
    if len(rest) < 6:
        raise InvoiceError("not a BOLT11 invoice (too short: was it cut off?)")
    values = [CHARSET.index(char) for char in rest]
    checksum = bech32_polymod(bech32_hrp_expand(hrp) + values)
    if checksum == _BECH32M_CONST:
        raise InvoiceError("not a BOLT11 invoice (it has a bech32m checksum: is it an address or an offer?)")
    if checksum != 1:
        raise InvoiceError("not a BOLT11 invoice (bad checksum: a character was mistyped, lost or added)")
    return hrp, values[:-6]


def _parse_hrp(hrp: str) -> tuple[str, int | None]:
    """The currency and amount (msat, None if absent) of ``ln<currency><amount>``, as lightningd reads them."""
    body = hrp[2:]
    digits_at = next((i for i, char in enumerate(body) if char.isdigit()), len(body))
    currency, amount_text = body[:digits_at], body[digits_at:]
    if currency not in CURRENCIES:
        known = ", ".join(NETWORK_PREFIXES.values())
        raise InvoiceError(f"not a BOLT11 invoice for a known network: prefix 'ln{currency}' is not one of {known}")
    if not amount_text:
        return currency, None
    multiplier = amount_text[-1] if amount_text[-1] in _MULTIPLIERS else ""
    number = amount_text[:-1] if multiplier else amount_text
    if not number.isdigit() or not number.isascii():
        raise InvoiceError(f"not a BOLT11 invoice (its amount '{amount_text}' is not a number with m, u, n or p)")
    if len(number.lstrip("0")) > 30:  # past 21 million bitcoin in any unit, and past int()'s 4300 digits
        shown = amount_text if len(amount_text) <= 40 else f"{amount_text[:20]}…{amount_text[-4:]}"
        raise InvoiceError(f"not a BOLT11 invoice (its amount '{shown}' is more than 21 million bitcoin)")
    value = int(number.lstrip("0") or "0")
    if multiplier == "p":
        if value % 10:
            raise InvoiceError(f"not a BOLT11 invoice (its amount '{amount_text}' is finer than a millisatoshi)")
        amount = value // 10
    elif multiplier:
        amount = value * (_MULTIPLIERS[multiplier] or 0)
    else:
        amount = value * 100_000_000_000
    if amount > MAX_MSAT:
        raise InvoiceError(f"not a BOLT11 invoice (its amount '{amount_text}' is more than 21 million bitcoin)")
    return currency, amount


@dataclass
class _Fields:
    """The tagged fields as a 5-bit walk finds them: what the library drops or misreads."""

    letters: list[str] = field(default_factory=list)
    features_u5: list[int] | None = None
    fallbacks_u5: list[list[int]] = field(default_factory=list)
    route_hints_u5: list[list[int]] = field(default_factory=list)
    has_payee: bool = False


def _walk_fields(data: list[int]) -> _Fields:
    """Check the data part's structure: timestamp, tagged fields that fit exactly, then a 65-byte signature."""
    if len(data) < _TIMESTAMP_U5 + _SIGNATURE_U5:
        raise InvoiceError("not a BOLT11 invoice (too short to hold a signature: was it cut off?)")
    end = len(data) - _SIGNATURE_U5
    position = _TIMESTAMP_U5
    found = _Fields()
    seen: set[str] = set()
    while position < end:
        if position + 3 > end:
            raise InvoiceError("not a BOLT11 invoice (a field is cut off before the signature)")
        letter = CHARSET[data[position]]
        length = data[position + 1] * 32 + data[position + 2]
        position += 3
        if position + length > end:
            raise InvoiceError(f"not a BOLT11 invoice (its '{letter}' field runs into the signature)")
        value = data[position : position + length]
        position += length
        found.letters.append(letter)
        if letter in ("x", "c") and length == 0 and letter not in seen:
            raise InvoiceError(
                f"this invoice has an empty '{letter}' field ({'expiry' if letter == 'x' else 'final CLTV'} 0), "
                "which the console's decoder cannot read",
                unsupported=True,
            )
        if letter == "f" and length == 0 and letter not in seen:
            raise InvoiceError(
                "this invoice has an empty fallback field, which the console's decoder cannot read", unsupported=True
            )
        if letter == "9" and letter not in seen:
            found.features_u5 = value
        elif letter == "f":
            found.fallbacks_u5.append(value)
        elif letter == "r":
            found.route_hints_u5.append(value)
        elif letter == "n" and length == 53:
            found.has_payee = True
        seen.add(letter)
    return found


def _invoice_from(
    decoded: bolt11.Bolt11, text: str, currency: str, amount_msat: int | None, fields: _Fields
) -> Invoice:
    """The library's answer, checked and completed with what the walk found."""
    tags = decoded.tags
    if not decoded.has_payment_hash:
        raise InvoiceError("not a payable invoice (it has no payment hash)")
    from bolt11 import TagChar

    has_description = tags.has(TagChar.description)
    if not has_description and decoded.description_hash is None:
        raise InvoiceError("not a valid BOLT11 invoice (it has neither a description nor a description hash)")
    payee = str(decoded.payee or "")
    if not _valid_pubkey(payee):
        raise InvoiceError("the signature cannot be verified: the invoice was altered or is corrupt")

    hints = tuple(_route_hint(words, number) for number, words in enumerate(fields.route_hints_u5, start=1))
    features_value = 0
    if fields.features_u5:
        for word in fields.features_u5:
            features_value = features_value << 5 | word
    signature = decoded.signature.hex if decoded.signature else ""
    return Invoice(
        bolt11=text,
        network=CURRENCIES[currency][0],
        currency=currency,
        payee=payee,
        amount_msat=amount_msat or None,
        description=printable(decoded.description) if has_description else None,
        description_hash=decoded.description_hash,
        created_at=int(decoded.date),
        expiry=int(decoded.expiry),
        min_final_cltv_expiry=int(decoded.min_final_cltv_expiry),
        payment_hash=decoded.payment_hash,
        payment_secret=decoded.payment_secret,
        features_hex=_features_hex(features_value, len(fields.features_u5 or ())),
        features=_features_of(features_value),
        route_hints=hints,
        fallbacks=tuple(
            fallback for fallback in (_fallback(words, currency) for words in fields.fallbacks_u5) if fallback
        ),
        payment_metadata=decoded.metadata,
        signature=signature,
    )


def _valid_pubkey(text: str) -> bool:
    try:
        PublicKey(bytes.fromhex(text))
    except (ValueError, TypeError):
        return False
    return True


_HINT_HOP_BYTES = 51
"""pubkey 33, short_channel_id 8, fee_base_msat 4, fee_proportional_millionths 4, cltv_expiry_delta 2."""


def _route_hint(words: list[int], number: int) -> tuple[HintHop, ...]:
    """An ``r`` field's hops. Read here, not by the library: it reads fees as signed numbers and drops the
    last hop when the hops fill the field exactly (5 hops)."""
    data = bytes(convertbits(words, 5, 8, True) or [])[: len(words) * 5 // 8]
    if not data or len(data) % _HINT_HOP_BYTES:
        raise InvoiceError(f"not a valid BOLT11 invoice (route hint {number} is cut off in the middle of a hop)")
    hops = []
    for index in range(len(data) // _HINT_HOP_BYTES):
        chunk = data[index * _HINT_HOP_BYTES : (index + 1) * _HINT_HOP_BYTES]
        node_id = chunk[:33].hex()
        if not _valid_pubkey(node_id):
            raise InvoiceError(f"not a valid BOLT11 invoice (route hint {number}, hop {index + 1}: bad node id)")
        scid = int.from_bytes(chunk[33:41], "big")
        hops.append(
            HintHop(
                node_id=node_id,
                short_channel_id=f"{scid >> 40}x{scid >> 16 & 0xFFFFFF}x{scid & 0xFFFF}",
                fee_base_msat=int.from_bytes(chunk[41:45], "big"),
                fee_proportional_millionths=int.from_bytes(chunk[45:49], "big"),
                cltv_expiry_delta=int.from_bytes(chunk[49:51], "big"),
            )
        )
    return tuple(hops)


def _features_hex(value: int, words: int) -> str:
    """As lightningd prints the ``9`` field: its 5-bit words right-aligned in whole bytes."""
    return value.to_bytes((words * 5 + 7) // 8, "big").hex() if words else ""


def _features_of(value: int) -> tuple[InvoiceFeature, ...]:
    features = []
    bit = 0
    while value >> bit:
        if value >> bit & 1:
            name = FEATURE_NAMES.get(bit & ~1)
            features.append(
                InvoiceFeature(bit=bit, name=name or f"unknown_{bit}", required=bit % 2 == 0, known=bool(name))
            )
        bit += 1
    return tuple(features)


def _fallback(words: list[int], currency: str) -> FallbackAddress | None:
    """A fallback field's address; None for an unknown version (BOLT 11: skip it). A malformed program is
    kept without an address."""
    if not words or words[0] > 18:
        return None
    version = words[0]
    program_bytes = convertbits(words[1:], 5, 8, False)
    if program_bytes is None:
        return FallbackAddress(version=version, program="", address=None)
    program = bytes(program_bytes)
    _, segwit_hrp, p2pkh, p2sh = CURRENCIES[currency]
    address: str | None = None
    if version == 17 and len(program) == 20:
        address = _base58check(bytes([p2pkh]) + program)
    elif version == 18 and len(program) == 20:
        address = _base58check(bytes([p2sh]) + program)
    elif version <= 16 and 2 <= len(program) <= 40 and (version != 0 or len(program) in (20, 32)):
        address = _segwit_address(segwit_hrp, version, program)
    return FallbackAddress(version=version, program=program.hex(), address=address)


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def _segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP 173 (version 0, bech32) or BIP 350 (version 1+, bech32m)."""
    words = [version, *(convertbits(program, 8, 5) or [])]
    constant = 1 if version == 0 else _BECH32M_CONST
    polymod = bech32_polymod([*bech32_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[word] for word in words + checksum)


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in text)


# ---------------------------------------------------------------------------------------------------------------
# The node's opinion


def _node_msat(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text[:-4]) if text.endswith("msat") else int(text)


def _node_amount(answer: Mapping[str, Any]) -> int | None:
    """``amount_msat`` (int, or "123msat" on old nodes), or the older still ``msatoshi``."""
    for key in ("amount_msat", "msatoshi"):
        if answer.get(key) is not None:
            try:
                return _node_msat(answer[key])
            except ValueError:
                return None
    return None


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{text[:16]}…"


def cross_check(invoice: Invoice, node_answer: Mapping[str, Any]) -> list[str]:
    """Where the node's ``decode``/``decodepay`` answer disagrees with ours: one sentence per field."""
    problems: list[str] = []
    kind = node_answer.get("type")
    if kind is not None and kind != "bolt11 invoice":
        problems.append(f"the node reads this as a {kind}, not a BOLT11 invoice")
    if node_answer.get("valid") is False:
        problems.append("the node says the invoice is not valid")

    def compare(name: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            ours_text = "none" if ours is None else _short(ours)
            theirs_text = "none" if theirs is None else _short(theirs)
            problems.append(f"{name}: the console reads {ours_text}, the node says {theirs_text}")

    compare("payee", invoice.payee, node_answer.get("payee"))
    compare("payment_hash", invoice.payment_hash, node_answer.get("payment_hash"))
    node_amount = _node_amount(node_answer)
    compare("amount_msat", invoice.amount_msat, node_amount or None)
    compare("payment_secret", invoice.payment_secret, node_answer.get("payment_secret"))
    if "min_final_cltv_expiry" in node_answer:
        compare("min_final_cltv_expiry", invoice.min_final_cltv_expiry, node_answer.get("min_final_cltv_expiry"))
    if "expiry" in node_answer:
        compare("expiry", invoice.expiry, node_answer.get("expiry"))
    if "currency" in node_answer:
        compare("currency", invoice.currency, node_answer.get("currency"))
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Checks before paying


@dataclass(frozen=True)
class InvoiceCheck:
    """An invoice judged for payment: ``problems`` are refusals (pay nothing while any), ``warnings`` are not."""

    invoice: Invoice
    amount_msat: int | None
    """What the payee must receive: the invoice's amount, or the one the user gave."""
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    checked_at: int = 0
    """The ``now`` the expiry was judged against."""

    @property
    def ok(self) -> bool:
        return not self.problems and self.amount_msat is not None

    @property
    def time_left(self) -> int:
        return self.invoice.time_left(self.checked_at)


def _duration(seconds: int) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def check_invoice(
    invoice: Invoice,
    *,
    network: str | None = None,
    amount_text: str | None = None,
    now: int | None = None,
    min_seconds_left: int = 0,
) -> InvoiceCheck:
    """Judge an invoice for payment on a node of ``network``, with the amount the user typed (if any).

    ``min_seconds_left`` refuses an invoice that expires sooner than that, for a caller that wants a margin.
    The console itself refuses only an expired invoice (again right before sending) and warns when it expires
    within the route's worst-case delay: see :func:`expiry_against_delay`.
    """
    now = int(time.time()) if now is None else int(now)
    problems: list[str] = []
    warnings: list[str] = []

    if network is not None:
        node_network = _NODE_NETWORKS.get(network, network)
        if invoice.network != node_network:
            problems.append(
                f"this is a {invoice.network} invoice ({NETWORK_PREFIXES.get(invoice.network, '?')}...), "
                f"but the node runs on {network}"
            )

    left = invoice.time_left(now)
    if invoice.is_expired(now):
        problems.append(f"the invoice expired {_duration(left)} ago: ask the payee for a new one")
    elif left < min_seconds_left:
        problems.append(
            f"the invoice expires in {_duration(left)}, before the payment could settle in the worst case "
            f"({_duration(min_seconds_left)}): ask the payee for a new one"
        )
    elif left < 60:
        warnings.append(f"the invoice expires in {left}s")

    amount = _amount_to_pay(invoice, amount_text, problems, warnings)

    if invoice.payment_secret is None:
        problems.append(
            "the invoice has no payment_secret: BOLT 11 requires one and current nodes refuse payments without it"
        )
    elif not invoice.has_feature("basic_mpp"):
        warnings.append("the payee does not announce basic_mpp: pay it in one part")
    unknown = invoice.unknown_required_features
    if unknown:
        bits = ", ".join(str(bit) for bit in unknown)
        problems.append(f"the invoice requires feature bit {bits}, which this console does not know how to pay")
    return InvoiceCheck(
        invoice=invoice, amount_msat=amount, problems=tuple(problems), warnings=tuple(warnings), checked_at=now
    )


BLOCK_SECONDS = 600
"""Bitcoin's target block interval: a CLTV delay in blocks, as time."""


def expiry_against_delay(invoice: Invoice, total_delay: int, now: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(problems, warnings) of sending, at ``now``, over a route whose HTLC carries ``total_delay`` blocks.

    Expired is a refusal: the payee would refuse the payment, so nothing may be sent (call this again right
    before sending: the payer may have taken minutes to confirm). Expiring within the worst-case delay is a
    warning, not a refusal: a payment normally arrives in seconds, but every hop may hold the HTLC up to its
    CLTV delta, and one that arrives after the expiry is refused while the funds stay locked until then.
    Refusing those would refuse most real invoices (an hour or a day of expiry against routes of 100-300
    blocks), which a payer who knows the trade-off may well accept.
    """
    left = invoice.time_left(now)
    if invoice.is_expired(now):
        return (f"the invoice expired {_duration(left)} ago: ask the payee for a new one",), ()
    worst = total_delay * BLOCK_SECONDS
    if left < worst:
        return (), (
            f"the invoice expires in {span_text(left)}, sooner than the route's worst-case delay ({total_delay} "
            f"blocks, ~{span_text(worst)}): if a hop holds the payment that long, the payee refuses it and the "
            "funds stay locked until the delay runs out",
        )
    return (), ()


def span_text(seconds: float) -> str:
    """``45 s``, ``59 min``, ``2 h 40 min``, ``3 days 4 h``: a time span (its size; the sign is the caller's)."""
    seconds = int(abs(seconds))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def _amount_to_pay(invoice: Invoice, amount_text: str | None, problems: list[str], warnings: list[str]) -> int | None:
    given: int | None = None
    if amount_text is not None and str(amount_text).strip():
        try:
            given = parse_amount(str(amount_text))
        except AmountError as error:
            problems.append(str(error))
            return None
        if given == 0:
            problems.append("the amount must be more than 0")
            return None
    if invoice.amount_msat is None:
        if given is None:
            problems.append(f"the invoice has no amount: give the amount to pay ({_FORMATS})")
        return given
    if given is None:
        return invoice.amount_msat
    if given < invoice.amount_msat:
        problems.append(
            f"{format_msat(given)} is less than the invoice's {format_msat(invoice.amount_msat)}: "
            "the payee would refuse it"
        )
        return None
    if given > OVERPAY_WARNING_FACTOR * invoice.amount_msat:
        warnings.append(
            f"{format_msat(given)} is more than twice the invoice's {format_msat(invoice.amount_msat)}: "
            "the payee keeps any excess"
        )
    elif given > invoice.amount_msat:
        warnings.append(
            f"paying {format_msat(given)}, {format_msat(given - invoice.amount_msat)} more than the invoice asks"
        )
    return given


# ---------------------------------------------------------------------------------------------------------------
# Against a node


@dataclass(frozen=True)
class PayableInvoice(InvoiceCheck):
    """An invoice checked against the node that would pay it: what the payment engine starts from."""

    node_id: str = ""
    node_network: str = ""
    node_decode: Mapping[str, Any] | None = None
    """The node's ``decode``/``decodepay`` answer, None if it could not decode the invoice."""
    decoded_by: str = "console"
    """``console`` (the bolt11 library, cross-checked) or ``node`` (the console could not read it)."""


def load_invoice(
    node: NodeClient,
    text: str,
    amount_text: str | None = None,
    now: int | None = None,
    *,
    min_seconds_left: int = 0,
) -> PayableInvoice:
    """Decode ``text`` here and on the node, cross-check, and judge it for payment from this node.

    Raises InvoiceError only when the text is no invoice at all (or one nobody can read); NodeUnreachable
    passes through. Every other reason not to pay is in ``problems``.
    """
    cleaned = clean_invoice_text(text)
    local_error: InvoiceError | None = None
    invoice: Invoice | None = None
    try:
        invoice = decode_invoice(text)
    except InvoiceError as error:
        if not error.unsupported:
            raise
        local_error = error

    info = node.getinfo()
    warnings: list[str] = []
    problems: list[str] = []
    answer: dict[str, Any] | None = None
    try:
        answer = node.decode(cleaned)
    except NodeUnreachable:
        raise
    except NodeError as error:
        if error.code == METHOD_NOT_FOUND:
            warnings.append("the node has neither decode nor decodepay: the invoice was not checked by the node")
        else:
            warnings.append(f"the node could not decode it: {error.message}")

    decoded_by = "console"
    if invoice is None:
        assert local_error is not None
        if answer is None or answer.get("valid") is False or answer.get("type", "bolt11 invoice") != "bolt11 invoice":
            raise local_error
        try:
            invoice = Invoice.from_node_decode(answer, cleaned)
        except (ValueError, TypeError, AttributeError):
            raise local_error from None
        decoded_by = "node"
        warnings.append(f"{local_error.reason}; showing the node's decode instead")
    elif answer is not None:
        problems.extend(f"the node and the console disagree: {item}" for item in cross_check(invoice, answer))

    check = check_invoice(
        invoice, network=info.network, amount_text=amount_text, now=now, min_seconds_left=min_seconds_left
    )
    problems.extend(check.problems)
    if invoice.payee == info.id:
        problems.append("this invoice was issued by this node itself: there is nothing to pay")
    else:
        visibility = _payee_visibility(node, invoice)
        if visibility:  # a payee gossip doesn't know: private, or a stranger named by an altered invoice
            problems.extend(_hint_problems(node, invoice))
        warnings.extend(visibility)
    return PayableInvoice(
        invoice=invoice,
        amount_msat=check.amount_msat,
        problems=tuple(problems),
        warnings=tuple(warnings) + check.warnings,
        checked_at=check.checked_at,
        node_id=info.id,
        node_network=info.network,
        node_decode=answer,
        decoded_by=decoded_by,
    )


def _hint_problems(node: NodeClient, invoice: Invoice) -> list[str]:
    """Route hints over public channels that do not join the nodes the hint names.

    Without an ``n`` field a BOLT11 signature names whoever signed: an invoice altered after signing (a changed
    payment_hash, say) verifies as the word of some other key, and nothing in the invoice itself can tell. Its
    route hints can: the last one's channel leads to the real payee, which gossip knows. A hint that disagrees
    with gossip is refused, so that such an invoice is not sent down the real payee's channel to a stranger.
    Private channels (unknown to gossip) are taken on the invoice's word. Asked only for a payee gossip does not
    know (a stranger always is one), so a public payee's invoice costs no lookup.
    """
    problems: list[str] = []
    for number, hint in enumerate(invoice.route_hints, start=1):
        for index, hop in enumerate(hint):
            after = hint[index + 1].node_id if index + 1 < len(hint) else invoice.payee
            try:
                channels = node.listchannels(short_channel_id=hop.short_channel_id)
            except NodeUnreachable:
                raise
            except NodeError:
                break
            ends = sorted({channel.source for channel in channels} | {channel.destination for channel in channels})
            if not ends or (hop.node_id in ends and after in ends):
                continue
            whom = "the payee" if after == invoice.payee else "the hint's next node"
            problems.append(
                f"route hint {number} sends the payment over {hop.short_channel_id} to {whom} {after[:16]}…, but that "
                f"channel joins {' and '.join(end[:16] + '…' for end in ends)}: the invoice was altered or is corrupt "
                "(without an n field, an altered invoice verifies as signed by some other key)"
            )
            break
    return problems


def _payee_visibility(node: NodeClient, invoice: Invoice) -> list[str]:
    """A payee the gossip does not know is either private (route hints) or not where the invoice says."""
    try:
        known = node.listnodes(invoice.payee)
    except NodeUnreachable:
        raise
    except NodeError:
        return []
    if known:
        return []
    if invoice.route_hints:
        return ["the payee is not in the node's gossip: it can only be reached through the invoice's route hints"]
    return [
        "the payee is not in the node's gossip and the invoice has no route hints: there is probably no route "
        "to it (is it the invoice you meant?)"
    ]


__all__ = [
    "FallbackAddress",
    "HintHop",
    "Invoice",
    "InvoiceCheck",
    "InvoiceError",
    "InvoiceFeature",
    "PayableInvoice",
    "check_invoice",
    "clean_invoice_text",
    "cross_check",
    "decode_invoice",
    "expiry_against_delay",
    "load_invoice",
    "span_text",
]
