"""Invoices held by the simulated nodes: real BOLT11 strings, signed by the payee's key.

Every node of the network can issue invoices (``invoice`` for our node, ``dev-sim-invoice`` for any node), and
the payee side of a payment checks incoming HTLCs against them.

Invoices are written and signed with the ``bolt11`` library, in lightningd's field order (``s p d x c f r 9``,
``x`` omitted at its 3600 s default, the feature bits lightningd sets), so they come out byte for byte as
lightningd's would apart from the signature. The reader is our own port of CLN's ``common/bolt11.c``: the
simulated ``decode`` must refuse what lightningd refuses *with lightningd's words* ("Bad bech32 string",
"Missing required payment secret (s field)", "9: unknown feature bit 100", ...), which no library gives and
which the console shows to its user.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import base58
import bolt11
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod, convertbits
from bitstring import Bits, pack
from bolt11.models.fallback import Fallback
from bolt11.models.features import Feature, Features, FeatureState
from bolt11.models.routehint import Route as HintHop
from bolt11.models.routehint import RouteHint
from bolt11.models.tags import TagChar, Tags
from coincurve import PublicKey
from coincurve.ecdsa import cdata_to_der, deserialize_recoverable, recoverable_convert

from .params import U64_MAX, int_to_scid

if TYPE_CHECKING:
    from .network import Channel
    from .node import SimNode

CURRENCY_BY_NETWORK = {"regtest": "bcrt", "bitcoin": "bc", "testnet": "tb", "signet": "tbs"}
DEFAULT_EXPIRY = 604800
"""lightningd's default invoice expiry: one week."""
MIN_FINAL_CLTV_EXPIRY = 10
"""What lightningd puts in invoices on regtest (the transcripts show 10)."""
BOLT11_DEFAULT_EXPIRY = 3600
"""BOLT 11's default when an invoice has no ``x`` field (so lightningd leaves it out for 3600)."""
BOLT11_DEFAULT_MIN_FINAL_CLTV = 18
"""BOLT 11's default when an invoice has no ``c`` field."""
BOLT11_FIELD_BYTE_LIMIT = (1 << 10) * 5 // 8 - 1
"""639: the most bytes one tagged field can hold (``invoice`` refuses longer descriptions)."""

INVOICE_FEATURE_BITS = bytes.fromhex("02024100")
"""The ``9`` field lightningd writes (decode shows "02024100"): var_onion_optin (8) and payment_secret (14)
required, basic_mpp (17) and option_route_blinding (25) optional."""
OUR_BOLT11_FEATURES = bytes.fromhex("02000002024100")
"""lightningd's whole BOLT11 feature set (getinfo ``our_features.invoice``): adds payment_metadata (49), which
it only writes into invoices that carry metadata. An invoice requiring an even bit outside these pairs is
refused with "9: unknown feature bit N"."""
INVOICE_FEATURES = {
    Feature.var_onion_optin: FeatureState.required,
    Feature.payment_secret: FeatureState.required,
    Feature.basic_mpp: FeatureState.supported,
    Feature.option_route_blinding: FeatureState.supported,
}
"""The same bits as ``INVOICE_FEATURE_BITS``, in the ``bolt11`` library's terms."""

# chainparams.c: lightning hrp -> (network name, on-chain bech32 hrp, p2pkh version, p2sh version)
CHAINS: dict[str, tuple[str, str, int, int]] = {
    "bc": ("bitcoin", "bc", 0, 5),
    "bcrt": ("regtest", "bcrt", 111, 196),
    "tbs": ("signet", "tb", 111, 196),
    "tb": ("testnet", "tb", 111, 196),
}
ONCHAIN_HRP_BY_NETWORK = {network: onchain for network, onchain, _, _ in CHAINS.values()}

MSAT_PER_BTC = 100_000_000_000
# BOLT 11 multipliers as CLN tabulates them: the letter and ten times the msat one unit of it is worth.
MULTIPLIERS = (
    ("m", 10 * MSAT_PER_BTC // 1000),
    ("u", 10 * MSAT_PER_BTC // 10**6),
    ("n", 10 * MSAT_PER_BTC // 10**9),
    ("p", 1),
)


@dataclass
class SimInvoice:
    """An invoice of one node, with its secrets (the preimage never leaves the payee)."""

    payee: str
    label: str
    bolt11: str
    payment_hash: str
    preimage: str
    payment_secret: str
    amount_msat: int | None
    description: str
    created_at: int
    expires_at: int
    min_final_cltv_expiry: int
    created_index: int
    status: str = "unpaid"
    paid_at: int | None = None
    amount_received_msat: int | None = None
    route_hints: list[list[dict[str, object]]] = field(default_factory=list)
    description_hash: str | None = None
    """Set for ``deschashonly`` invoices (the bolt11 carries ``h``, not ``d``)."""
    pay_index: int | None = None
    """Set when paid: the payee's running count of paid invoices, as listinvoices shows it."""
    updated_index: int | None = None

    def is_expired(self, now: int) -> bool:
        return self.status == "unpaid" and now >= self.expires_at

    def current_status(self, now: int) -> str:
        return "expired" if self.is_expired(now) else self.status


# ------------------------------------------------------------------------------------------------------------
# Bech32 and addresses


def _bech32_checksum(hrp: str, data: Sequence[int], constant: int) -> list[int]:
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + list(data) + [0] * 6) ^ constant
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def bech32_encode(hrp: str, data: Sequence[int], constant: int = BECH32_CONST) -> str:
    """Bech32 (or bech32m) with no length limit: BOLT 11 strings exceed BIP 173's 90 characters."""
    checksum = _bech32_checksum(hrp, data, constant)
    return hrp + "1" + "".join(CHARSET[d] for d in [*data, *checksum])


def bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, checksum constant) as CLN's bech32_decode checks it, or None.

    No length limit (lightningd passes ``(size_t)-1``); all upper or all lower case; at least one hrp
    character and six checksum characters.
    """
    if len(text) < 8:
        return None
    separator = text.rfind("1")
    if separator < 1 or len(text) - separator - 1 < 6:
        return None
    has_lower = has_upper = False
    for char in text:
        if not 33 <= ord(char) <= 126:
            return None
        has_lower |= char.islower()
        has_upper |= char.isupper()
    if has_lower and has_upper:
        return None
    lowered = text.lower()
    hrp = lowered[:separator]
    data: list[int] = []
    for char in lowered[separator + 1 :]:
        value = CHARSET.find(char)
        if value < 0:
            return None
        data.append(value)
    constant = bech32_polymod(bech32_hrp_expand(hrp) + data)
    if constant not in (BECH32_CONST, BECH32M_CONST):
        return None
    return hrp, data[:-6], constant


def witness_script(version: int, program: bytes) -> bytes:
    return bytes([0 if version == 0 else 0x50 + version, len(program)]) + program


def p2pkh_script(pubkey_hash: bytes) -> bytes:
    return b"\x76\xa9\x14" + pubkey_hash + b"\x88\xac"


def p2sh_script(script_hash: bytes) -> bytes:
    return b"\xa9\x14" + script_hash + b"\x87"


def script_type(script: bytes) -> str | None:
    """The address type lightningd names in decode's ``fallbacks`` (None when it names none)."""
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return "P2PKH"
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return "P2SH"
    if len(script) == 22 and script[:2] == b"\x00\x14":
        return "P2WPKH"
    if len(script) == 34 and script[:2] == b"\x00\x20":
        return "P2WSH"
    if len(script) == 34 and script[:2] == b"\x51\x20":
        return "P2TR"
    return None


def _witness_of(script: bytes) -> tuple[int, bytes] | None:
    if len(script) < 4 or script[1] != len(script) - 2 or not 2 <= script[1] <= 40:
        return None
    if script[0] == 0:
        return 0, script[2:]
    if 0x51 <= script[0] <= 0x60:
        return script[0] - 0x50, script[2:]
    return None


def script_to_address(script: bytes, lightning_hrp: str) -> str | None:
    """encode_scriptpubkey_to_addr: the address of ``script`` on the invoice's chain, when it has one."""
    _, onchain_hrp, p2pkh_version, p2sh_version = CHAINS[lightning_hrp]
    kind = script_type(script)
    if kind == "P2PKH":
        return base58.b58encode_check(bytes([p2pkh_version]) + script[3:23]).decode()
    if kind == "P2SH":
        return base58.b58encode_check(bytes([p2sh_version]) + script[2:22]).decode()
    witness = _witness_of(script)
    if witness is None:
        return None
    version, program = witness
    data = [version, *convertbits(program, 8, 5, True)]  # type: ignore[misc]
    return bech32_encode(onchain_hrp, data, BECH32_CONST if version == 0 else BECH32M_CONST)


def address_to_script(address: str, network: str) -> tuple[bytes | None, str]:
    """json_to_address_scriptpubkey: (script, "") or (None, "unrecognized" | "wrong_network")."""
    chain = next(value for value in CHAINS.values() if value[0] == network)
    _, onchain_hrp, p2pkh_version, p2sh_version = chain
    try:
        raw = base58.b58decode_check(address)
    except ValueError:
        raw = b""
    if len(raw) == 21:
        if raw[0] == p2pkh_version:
            return p2pkh_script(raw[1:]), ""
        if raw[0] == p2sh_version:
            return p2sh_script(raw[1:]), ""
        return None, "wrong_network"
    decoded = bech32_decode(address)
    if decoded is None:
        return None, "unrecognized"
    hrp, data, constant = decoded
    if hrp not in ("bc", "tb", "bcrt") or not data or data[0] > 16:
        return None, "unrecognized"
    program = convertbits(data[1:], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40:
        return None, "unrecognized"
    if (constant == BECH32_CONST) != (data[0] == 0):
        return None, "unrecognized"
    if data[0] == 0 and len(program) not in (20, 32):
        return None, "unrecognized"
    if hrp != onchain_hrp:
        return None, "wrong_network"
    return witness_script(data[0], bytes(program)), ""


# ------------------------------------------------------------------------------------------------------------
# Writing BOLT 11


def _u5_of_int(value: int) -> list[int]:
    """Minimal big-endian base-32 digits (none for 0), as lightningd writes ``x`` and ``c``."""
    digits: list[int] = []
    while value:
        digits.append(value & 31)
        value >>= 5
    return digits[::-1]


def _u5_of_bytes(data: bytes) -> list[int]:
    return convertbits(data, 8, 5, True) or []


def _tagged(letter: str, u5: list[int]) -> list[int]:
    if len(u5) >= 1024:
        raise ValueError(f"bolt11 field {letter} too long")
    return [CHARSET.index(letter), len(u5) >> 5, len(u5) & 31, *u5]


def amount_hrp(amount_msat: int) -> str:
    """The amount part of the hrp, with the largest multiplier that is exact (CLN's choice)."""
    if amount_msat % MSAT_PER_BTC == 0:
        return str(amount_msat // MSAT_PER_BTC)
    for letter, m10 in MULTIPLIERS:
        if amount_msat * 10 % m10 == 0:
            return f"{amount_msat * 10 // m10}{letter}"
    raise AssertionError("the p multiplier is always exact")


def sign_bolt11(
    *,
    currency: str,
    secret_key: bytes,
    payment_hash: str,
    payment_secret: str,
    amount_msat: int | None,
    description: str,
    created_at: int,
    expiry: int,
    min_final_cltv_expiry: int,
    route_hints: list[list[dict[str, object]]] | None = None,
    description_hash: bool = False,
    fallbacks: Sequence[bytes] = (),
    features: bytes = INVOICE_FEATURE_BITS,
) -> str:
    """Encode and sign a BOLT11 invoice with the ``bolt11`` library, fields in lightningd's order.

    ``description_hash`` puts the description's SHA256 in ``h`` instead of the text in ``d``
    (``deschashonly``); ``fallbacks`` are output scripts.
    """
    tags = Tags()
    tags.add(TagChar.payment_secret, payment_secret)
    tags.add(TagChar.payment_hash, payment_hash)
    if description_hash:
        tags.add(TagChar.description_hash, hashlib.sha256(description.encode()).hexdigest())
    else:
        tags.add(TagChar.description, description)
    if expiry != BOLT11_DEFAULT_EXPIRY:
        tags.add(TagChar.expire_time, expiry)
    tags.add(TagChar.min_final_cltv_expiry, min_final_cltv_expiry)
    for script in fallbacks:
        tags.add(TagChar.fallback, Fallback(data=_fallback_bits(script), currency=currency))
    for hint in route_hints or []:
        hops = [
            HintHop(
                public_key=str(hop["pubkey"]),
                short_channel_id=str(hop["short_channel_id"]),
                base_fee=int(hop["fee_base_msat"]),  # type: ignore[call-overload]
                ppm_fee=int(hop["fee_proportional_millionths"]),  # type: ignore[call-overload]
                cltv_expiry_delta=int(hop["cltv_expiry_delta"]),  # type: ignore[call-overload]
            )
            for hop in hint
        ]
        tags.add(TagChar.route_hint, RouteHint(hops))
    feature_value = int.from_bytes(features, "big")
    if feature_value:
        # Whole 5-bit words, padded at the front: the library pads at the end, which would shift the bits.
        bits = Bits(uint=feature_value, length=-(-feature_value.bit_length() // 5) * 5)
        tags.add(TagChar.features, Features.from_bitstring(bits))
    invoice = bolt11.Bolt11(
        currency=currency,
        date=created_at,
        tags=tags,
        amount_msat=bolt11.MilliSatoshi(amount_msat) if amount_msat else None,
    )
    return bolt11.encode(invoice, secret_key.hex(), ignore_exceptions=True)


def _fallback_bits(script: bytes) -> Bits:
    """A fallback field's payload: 5-bit version (17 P2PKH, 18 P2SH, else witness version) and program."""
    kind = script_type(script)
    if kind == "P2PKH":
        version, program = 17, script[3:23]
    elif kind == "P2SH":
        version, program = 18, script[2:22]
    else:
        witness = _witness_of(script)
        if witness is None:
            raise ValueError("fallback is not an address script")
        version, program = witness
    return pack("uint:5", version) + Bits(bytes=program)


# ------------------------------------------------------------------------------------------------------------
# Reading BOLT 11, as common/bolt11.c does


class Bolt11Error(ValueError):
    """An invoice lightningd would refuse; the message is lightningd's."""


@dataclass
class DecodedBolt11:
    """What bolt11_decode extracts from an invoice whose signature checked out."""

    currency: str
    created_at: int
    expiry: int
    payee: str
    amount_msat: int | None
    description: str | None
    description_hash: str | None
    min_final_cltv_expiry: int
    payment_secret: str | None
    features: bytes
    payment_metadata: bytes | None
    fallbacks: list[bytes]
    routes: list[list[dict[str, Any]]]
    extra: list[dict[str, str]]
    payment_hash: str
    signature: str
    """DER hex, as lightningd prints it."""

    def to_json(self) -> dict[str, Any]:
        """json_add_bolt11: the fields and their order in decode's (and decodepay's) answer."""
        result: dict[str, Any] = {
            "currency": self.currency,
            "created_at": self.created_at,
            "expiry": self.expiry,
            "payee": self.payee,
        }
        if self.amount_msat is not None:
            result["amount_msat"] = self.amount_msat
        if self.description is not None:
            result["description"] = self.description
        if self.description_hash is not None:
            result["description_hash"] = self.description_hash
        result["min_final_cltv_expiry"] = self.min_final_cltv_expiry
        if self.payment_secret is not None:
            result["payment_secret"] = self.payment_secret
        result["features"] = self.features.hex()
        if self.payment_metadata is not None:
            result["payment_metadata"] = self.payment_metadata.hex()
        if self.fallbacks:
            entries = []
            for script in self.fallbacks:
                entry: dict[str, Any] = {}
                kind = script_type(script)
                if kind:
                    entry["type"] = kind
                address = script_to_address(script, self.currency)
                if address:
                    entry["addr"] = address
                entry["hex"] = script.hex()
                entries.append(entry)
            result["fallbacks"] = entries
        if self.routes:
            result["routes"] = self.routes
        if self.extra:
            result["extra"] = self.extra
        result["payment_hash"] = self.payment_hash
        result["signature"] = self.signature
        return result


class _Field:
    """The u5 data of one tagged field, consumed front to back like CLN's ``data``/``field_len`` pair."""

    def __init__(self, u5: list[int]) -> None:
        self.u5 = u5
        self.pos = 0

    @property
    def left(self) -> int:
        return len(self.u5) - self.pos

    def pull_bits(self, nbits: int, pad: bool) -> bytes:
        n5 = (nbits + 4) // 5
        if self.left < n5:
            raise Bolt11Error("truncated")
        chunk = self.u5[self.pos : self.pos + n5]
        converted = _convert_5_to_8(chunk, pad)
        if converted is None:
            raise Bolt11Error("non-zero trailing bits")
        self.pos += n5
        return converted

    def pull_uint(self, nbits: int, must_be_minimal: bool) -> int:
        if nbits > 64:
            raise Bolt11Error("integer too large")
        if must_be_minimal and nbits >= 5 and self.left > 1 and self.u5[self.pos] == 0:
            raise Bolt11Error("not a minimal value")
        n5 = (nbits + 4) // 5
        if self.left < n5:
            raise Bolt11Error("truncated")
        value = 0
        for digit in self.u5[self.pos : self.pos + n5]:
            value = value << 5 | digit
        self.pos += n5
        return value >> (n5 * 5 - nbits)

    def pull_all(self, pad: bool) -> bytes:
        return self.pull_bits(self.left * 5, pad)


def _convert_5_to_8(u5: Sequence[int], pad: bool) -> bytes | None:
    """bech32_convert_bits(8 <- 5): without padding, leftover bits must be fewer than 5 and all zero."""
    acc = bits = 0
    out = bytearray()
    for value in u5:
        acc = acc << 5 | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if pad:
        if bits:
            out.append((acc << (8 - bits)) & 0xFF)
    elif bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return None
    return bytes(out)


def _valid_pubkey(raw: bytes) -> bool:
    try:
        PublicKey(raw)
    except ValueError:
        return False
    return len(raw) == 33


def _feature_offered(features: int, bit: int) -> bool:
    return bool(features >> (bit & ~1) & 1 or features >> (bit | 1) & 1)


def _unsupported_feature(features: bytes, ours: bytes) -> int | None:
    """all_supported_features: the first even (compulsory) bit set that we support in neither form."""
    theirs = int.from_bytes(features, "big")
    supported = int.from_bytes(ours, "big")
    for bit in range(0, len(features) * 8, 2):
        if theirs >> bit & 1 and not _feature_offered(supported, bit):
            return bit
    return None


ALLOW_DUPLICATES = {"f", "r"}
KNOWN_FIELDS = {"p", "d", "h", "x", "c", "n", "s", "f", "r", "9", "m"}


def decode_bolt11(
    text: str,
    *,
    description: str | None = None,
    our_features: bytes | None = OUR_BOLT11_FEATURES,
) -> DecodedBolt11:
    """Decode and check an invoice of any chain, or raise Bolt11Error with lightningd's message.

    ``description`` is decodepay's parameter: when given and the invoice has ``h``, they must match.
    ``our_features`` None skips the feature check (as CLN's command-line tool does).
    """
    decoded = bech32_decode(text) if len(text) >= 8 else None
    if decoded is None or decoded[2] != BECH32_CONST:
        raise Bolt11Error("Bad bech32 string")
    hrp, data, _ = decoded
    prefix_end = next((i for i, char in enumerate(hrp) if char.isdigit()), len(hrp))
    prefix = hrp[:prefix_end]
    if not prefix.startswith("ln"):
        raise Bolt11Error(f"Prefix '{prefix}' does not start with ln")
    currency = prefix[2:]
    if currency not in CHAINS:
        raise Bolt11Error(f"Unknown chain {currency}")
    amount_msat = _parse_amount(hrp[prefix_end:])

    reader = _Field(data)
    try:
        created_at = reader.pull_uint(35, False)
    except Bolt11Error as err:
        raise Bolt11Error(f"Can't get 35-bit timestamp: {err}") from None

    state = _Fields()
    while reader.left > 520 // 5:
        letter = CHARSET[reader.pull_uint(5, False)]
        field_len = reader.pull_uint(10, False)
        if field_len > reader.left:
            raise Bolt11Error(f"{letter}: truncated")
        chunk = _Field(reader.u5[reader.pos : reader.pos + field_len])
        reader.pos += field_len
        try:
            if letter not in KNOWN_FIELDS or (letter in state.seen and letter not in ALLOW_DUPLICATES):
                state.unknown(letter, chunk)
            else:
                state.decode(letter, chunk, our_features)
        except Bolt11Error as err:
            raise Bolt11Error(str(err)) from None
        if chunk.left:
            raise Bolt11Error(f"{letter}: extra {chunk.left} bytes")
    signed_u5 = data[: reader.pos]

    if state.payment_hash is None:
        raise Bolt11Error("No valid 'p' field found")
    if state.payment_secret is None:
        raise Bolt11Error("Missing required payment secret (s field)")
    if (
        state.description_hash is not None
        and description is not None
        and hashlib.sha256(description.encode()).hexdigest() != state.description_hash
    ):
        raise Bolt11Error("h: does not match description")
    if state.description is None and state.description_hash is None:
        raise Bolt11Error("must have either 'd' or 'h' field")

    digest = hashlib.sha256(hrp.encode() + (_convert_5_to_8(signed_u5, True) or b"")).digest()
    try:
        sig_and_recid = reader.pull_bits(520, False)
    except Bolt11Error as err:
        raise Bolt11Error(f"can't read signature: {err}") from None
    if sig_and_recid[64] > 3:
        raise Bolt11Error(f"invalid recovery ID: {sig_and_recid[64]}")
    try:
        recoverable = deserialize_recoverable(sig_and_recid)
    except ValueError:
        raise Bolt11Error("signature invalid") from None
    der = cdata_to_der(recoverable_convert(recoverable))
    if state.payee is None:
        try:
            payee = PublicKey.from_signature_and_message(sig_and_recid, digest, hasher=None)
        except ValueError:
            raise Bolt11Error("signature recovery failed") from None
        payee_id = payee.format(compressed=True).hex()
    else:
        payee_id = state.payee
        if not PublicKey(bytes.fromhex(payee_id)).verify(der, digest, hasher=None):
            raise Bolt11Error("invalid signature")

    return DecodedBolt11(
        currency=currency,
        created_at=created_at,
        expiry=state.expiry,
        payee=payee_id,
        amount_msat=amount_msat,
        description=state.description,
        description_hash=state.description_hash,
        min_final_cltv_expiry=state.min_final_cltv_expiry,
        payment_secret=state.payment_secret,
        features=state.features,
        payment_metadata=state.metadata,
        fallbacks=state.fallbacks,
        routes=state.routes,
        extra=state.extra,
        payment_hash=state.payment_hash,
        signature=der.hex(),
    )


def _parse_amount(amount: str) -> int | None:
    """The hrp's amount (CLN: strtoull after stripping one multiplier letter; u64 arithmetic)."""
    if amount == "":
        return None
    m10 = 10 * MSAT_PER_BTC
    for letter, value in MULTIPLIERS:
        if amount.endswith(letter):
            m10 = value
            amount = amount[:-1]
            break
    digits = len(amount) - len(amount.lstrip("0123456789"))
    if digits and int(amount[:digits]) > U64_MAX:
        raise Bolt11Error(f"Invalid amount '{amount}'")
    if not amount or digits < len(amount):
        raise Bolt11Error(f"Invalid amount postfix '{amount[digits:]}'")
    pico = (int(amount) * m10) & U64_MAX
    if pico % 10:
        raise Bolt11Error(f"Invalid sub-millisatoshi amount '{amount}p'")
    return pico // 10


class _Fields:
    """The tagged fields read so far (bolt11.c's ``b11`` plus ``have_field``)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.payment_hash: str | None = None
        self.description: str | None = None
        self.description_hash: str | None = None
        self.expiry = BOLT11_DEFAULT_EXPIRY
        self.min_final_cltv_expiry = BOLT11_DEFAULT_MIN_FINAL_CLTV
        self.payee: str | None = None
        self.payment_secret: str | None = None
        self.fallbacks: list[bytes] = []
        self.routes: list[list[dict[str, Any]]] = []
        self.features = b""
        self.metadata: bytes | None = None
        self.extra: list[dict[str, str]] = []

    def unknown(self, letter: str, chunk: _Field) -> None:
        self.extra.append({"tag": letter, "data": "".join(CHARSET[v] for v in chunk.u5[chunk.pos :])})
        chunk.pull_all(True)

    def _fixed(self, letter: str, chunk: _Field, length: int) -> bytes | None:
        """pull_expected_length: a wrong length makes it an unknown field."""
        if chunk.left != length:
            self.unknown(letter, chunk)
            return None
        self.seen.add(letter)
        return chunk.pull_bits(length * 5, False)

    def decode(self, letter: str, chunk: _Field, our_features: bytes | None) -> None:
        if letter == "p":
            raw = self._fixed("p", chunk, 52)
            if raw is not None:
                self.payment_hash = raw.hex()
        elif letter == "h":
            raw = self._fixed("h", chunk, 52)
            if raw is not None:
                self.description_hash = raw.hex()
        elif letter == "s":
            raw = self._fixed("s", chunk, 52)
            if raw is not None:
                self.payment_secret = raw.hex()
        elif letter == "n":
            raw = self._fixed("n", chunk, 53)
            if raw is not None:
                self.payee = raw.hex()
                if not _valid_pubkey(raw):
                    raise Bolt11Error(f"invalid public key {raw.hex()}")
        elif letter == "d":
            raw = chunk.pull_all(False)
            self.seen.add("d")
            try:
                self.description = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Bolt11Error("d: invalid utf8") from None
        elif letter in ("x", "c"):
            try:
                value = chunk.pull_uint(chunk.left * 5, True)
            except Bolt11Error as err:
                raise Bolt11Error(f"{letter}: {err}") from None
            if letter == "x":
                self.expiry = value
            elif value >= 2**32:
                raise Bolt11Error(f"c: {value} is too large")
            else:
                self.min_final_cltv_expiry = value
            self.seen.add(letter)
        elif letter == "f":
            self._decode_f(chunk)
        elif letter == "r":
            self._decode_r(chunk)
        elif letter == "9":
            self._decode_9(chunk, our_features)
        elif letter == "m":
            self.metadata = chunk.pull_all(False)
            self.seen.add("m")

    def _decode_f(self, chunk: _Field) -> None:
        if chunk.left == 0:
            raise Bolt11Error("f: truncated")
        version = chunk.u5[chunk.pos]
        if version > 18:
            self.unknown("f", chunk)
            return
        chunk.pos += 1
        program = chunk.pull_all(False)
        if version == 17:
            if len(program) != 20:
                raise Bolt11Error(f"f: pkhash length {len(program)}")
            script = p2pkh_script(program)
        elif version == 18:
            if len(program) != 20:
                raise Bolt11Error(f"f: p2sh length {len(program)}")
            script = p2sh_script(program)
        else:
            if version == 0 and len(program) not in (20, 32):
                raise Bolt11Error(f"f: witness v0 bad length {len(program)}")
            if version == 1 and len(program) != 32:
                raise Bolt11Error(f"f: witness v1 bad length {len(program)}")
            if not 2 <= len(program) <= 40:
                raise Bolt11Error(f"f: witness v{version} bad length {len(program)}")
            script = witness_script(version, program)
        self.fallbacks.append(script)
        self.seen.add("f")

    def _decode_r(self, chunk: _Field) -> None:
        raw = chunk.pull_all(False)
        route: list[dict[str, Any]] = []
        offset = 0
        while True:
            hop = raw[offset : offset + 51]
            if len(hop) < 51:
                raise Bolt11Error(f"r: hop {len(route)} truncated")
            if not _valid_pubkey(hop[:33]):
                raise Bolt11Error(f"r: hop {len(route)} pubkey invalid")
            route.append(
                {
                    "pubkey": hop[:33].hex(),
                    "short_channel_id": int_to_scid(int.from_bytes(hop[33:41], "big")),
                    "fee_base_msat": int.from_bytes(hop[41:45], "big"),
                    "fee_proportional_millionths": int.from_bytes(hop[45:49], "big"),
                    "cltv_expiry_delta": int.from_bytes(hop[49:51], "big"),
                }
            )
            offset += 51
            if offset >= len(raw):
                break
        self.routes.append(route)
        self.seen.add("r")

    def _decode_9(self, chunk: _Field, our_features: bytes | None) -> None:
        databits = chunk.left * 5
        padded = chunk.pull_all(True)
        if padded and padded[0] == 0:
            raise Bolt11Error("9: non-minimal length (begins with 0)")
        shift = len(padded) * 8 - databits
        features = (int.from_bytes(padded, "big") >> shift).to_bytes(len(padded), "big")
        if our_features is not None:
            bad = _unsupported_feature(features, our_features)
            if bad is not None:
                raise Bolt11Error(f"9: unknown feature bit {bad}")
        self.features = features
        self.seen.add("9")


# ------------------------------------------------------------------------------------------------------------
# Route hints, as lightningd's invoice.c and routehint.c choose them


@dataclass
class RouteHintChoice:
    """The ``r`` fields an invoice gets and the warnings ``invoice`` adds to its answer."""

    routes: list[list[dict[str, object]]]
    warning_mpp: bool = False
    warning_capacity: bool = False
    warning_deadends: bool = False
    warning_offline: bool = False
    warning_private_unused: bool = False
    no_suitable_hints: bool = False
    """exposeprivatechannels named channels and none of them was usable (error 902)."""


@dataclass
class _Candidate:
    channel: Channel
    route: dict[str, object]
    capacity: int


def _incoming_capacity(node: SimNode, peer: str, excluded: Channel) -> int:
    """topology.c peer_capacity: what the peer can receive from its other channels (0 = a dead end)."""
    total = 0
    for channel in node.network.channels_of(peer):
        if channel is excluded:
            continue
        half = channel.halves[channel.direction_from(channel.peer_of(peer))]
        if half.enabled:
            total += half.htlc_maximum_msat
    return total


def select_route_hints(
    node: SimNode,
    payee: str,
    amount_msat: int | None,
    *,
    expose_private: bool | None = None,
    hint_scids: Sequence[str] | None = None,
    rr_numbers: dict[str, int] | None = None,
) -> RouteHintChoice:
    """Route hints for an invoice of ``payee``, the way lightningd picks them.

    Candidates are the payee's channels whose peer can pay in (``listincoming``): public ones, or private
    ones when the payee has no public channel or ``expose_private`` says so; ``hint_scids`` restricts them.
    Dead ends (the peer has no other way in) and offline peers are left out but counted for the warnings.
    If one candidate can take the whole amount, one is drawn at random weighted by its spare inbound
    (select_inchan); otherwise candidates are taken round-robin until their inbound covers the amount
    (select_inchan_mpp), and ``warning_mpp`` says the invoice needs several parts.
    """
    network = node.network
    public: list[_Candidate] = []
    private: list[_Candidate] = []
    none_public = True
    avail = private_capacity = deadend = offline = 0
    for channel in network.channels_of(payee):
        peer = channel.peer_of(payee)
        inbound = channel.halves[channel.direction_from(peer)]
        capacity = min(inbound.spendable_msat, inbound.htlc_maximum_msat)
        is_public = channel.public
        if is_public:
            none_public = False
        if expose_private:
            is_public = True
        if hint_scids is not None:
            if channel.short_channel_id not in hint_scids:
                continue
        elif _incoming_capacity(node, peer, channel) == 0:
            deadend += capacity
            continue
        if not network.nodes[peer].online:
            offline += capacity
            continue
        route = {
            "pubkey": peer,
            "short_channel_id": channel.short_channel_id,
            "fee_base_msat": inbound.base_fee_msat,
            "fee_proportional_millionths": inbound.fee_ppm,
            "cltv_expiry_delta": inbound.cltv_delta,
        }
        if is_public:
            public.append(_Candidate(channel, route, capacity))
            avail += capacity
        else:
            private.append(_Candidate(channel, route, capacity))
            private_capacity += capacity
    candidates = public
    if expose_private is None and not public and none_public:
        candidates, avail, private_capacity = private, private_capacity, 0
    if not candidates and hint_scids:
        return RouteHintChoice([], no_suitable_hints=True)

    needed = amount_msat or 1
    choice = RouteHintChoice([])
    if not none_public:
        total_weight = 0.0
        for candidate in candidates:
            if candidate.capacity < needed:
                continue
            excess_frac = (candidate.capacity - needed + 1) / max(candidate.channel.capacity_msat, 1)
            total_weight += excess_frac
            if node.rng.random() * total_weight <= excess_frac:
                choice.routes = [[candidate.route]]
    if not choice.routes:
        rr = rr_numbers if rr_numbers is not None else {}
        order = sorted(range(len(candidates)), key=lambda i: (rr.get(candidates[i].channel.short_channel_id, 0), i))
        gathered = 0
        counter = max(rr.values(), default=0)
        for index in order:
            if gathered >= needed:
                break
            candidate = candidates[index]
            gathered += candidate.capacity
            choice.routes.append([candidate.route])
            counter += 1  # to the back of the round-robin list
            rr[candidate.channel.short_channel_id] = counter
        choice.warning_mpp = len(choice.routes) > 1

    total = avail + offline + deadend + private_capacity
    choice.warning_capacity = needed >= total
    if needed > avail:
        if avail + offline >= needed:
            choice.warning_offline = True
        elif avail + offline + deadend >= needed:
            choice.warning_deadends = True
        elif avail + offline + deadend + private_capacity >= needed:
            choice.warning_private_unused = True
    return choice


# ------------------------------------------------------------------------------------------------------------
# The invoice store


def invoice_secret(preimage: bytes) -> str:
    """lightningd's ``invoice_secret``: the payment_secret derives from the preimage (first bit flipped, SHA256)."""
    modified = bytes([preimage[0] ^ 1]) + preimage[1:]
    return hashlib.sha256(modified).hexdigest()


class InvoiceBook:
    """Every node's invoices, by (payee, payment_hash) and by (payee, label)."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self.by_hash: dict[tuple[str, str], SimInvoice] = {}
        self.by_label: dict[tuple[str, str], SimInvoice] = {}
        self._next_index: dict[str, int] = {}
        self._pay_index: dict[str, int] = {}
        self._updated_index: dict[str, int] = {}
        self.rr_numbers: dict[str, dict[str, int]] = {}
        """Per payee, the round-robin order in which its channels last went into multi-hint invoices."""

    def create(
        self,
        payee: str,
        *,
        amount_msat: int | None,
        description: str,
        label: str | None = None,
        expiry: int = DEFAULT_EXPIRY,
        preimage: str | None = None,
        min_final_cltv_expiry: int = MIN_FINAL_CLTV_EXPIRY,
        route_hints: list[list[dict[str, object]]] | None = None,
        deschashonly: bool = False,
        fallbacks: Sequence[bytes] = (),
    ) -> SimInvoice:
        """Issue and remember a signed invoice of ``payee`` (a node id of the network)."""
        node = self.node.network.nodes[payee]
        # Random, as lightningd draws it: no two runs should share payment hashes (the seed shapes the network,
        # not the payments made on it).
        index = self._next_index.get(payee, 0) + 1
        self._next_index[payee] = index
        if preimage:
            preimage_bytes = bytes.fromhex(preimage)
        elif self.node.config.repeatable_preimages:
            preimage_bytes = hashlib.sha256(f"preimage:{self.node.config.seed}:{payee}:{index}".encode()).digest()
        else:
            preimage_bytes = os.urandom(32)
        payment_hash = hashlib.sha256(preimage_bytes).hexdigest()
        payment_secret = invoice_secret(preimage_bytes)
        created_at = self.node.now()
        encoded = sign_bolt11(
            currency=CURRENCY_BY_NETWORK[self.node.network_name],
            secret_key=node.secret_key,
            payment_hash=payment_hash,
            payment_secret=payment_secret,
            amount_msat=amount_msat,
            description=description,
            created_at=created_at,
            expiry=expiry,
            min_final_cltv_expiry=min_final_cltv_expiry,
            route_hints=route_hints,
            description_hash=deschashonly,
            fallbacks=fallbacks,
        )
        invoice = SimInvoice(
            payee=payee,
            label=label if label is not None else f"sim-{index}",
            bolt11=encoded,
            payment_hash=payment_hash,
            preimage=preimage_bytes.hex(),
            payment_secret=payment_secret,
            amount_msat=amount_msat,
            description=description,
            created_at=created_at,
            expires_at=created_at + expiry,
            min_final_cltv_expiry=min_final_cltv_expiry,
            created_index=index,
            route_hints=route_hints or [],
            description_hash=hashlib.sha256(description.encode()).hexdigest() if deschashonly else None,
        )
        self.by_hash[(payee, payment_hash)] = invoice
        self.by_label[(payee, invoice.label)] = invoice
        self.node.state.invoice_saved(invoice)
        return invoice

    def restore(self, invoice: SimInvoice) -> None:
        """Put back an invoice read from the state file; the payee's counters go on past it."""
        payee = invoice.payee
        self.by_hash[(payee, invoice.payment_hash)] = invoice
        self.by_label[(payee, invoice.label)] = invoice
        self._next_index[payee] = max(self._next_index.get(payee, 0), invoice.created_index)
        self._pay_index[payee] = max(self._pay_index.get(payee, 0), invoice.pay_index or 0)
        self._updated_index[payee] = max(self._updated_index.get(payee, 0), invoice.updated_index or 0)

    def find(self, payee: str, payment_hash: str) -> SimInvoice | None:
        return self.by_hash.get((payee, payment_hash))

    def find_label(self, payee: str, label: str) -> SimInvoice | None:
        return self.by_label.get((payee, label))

    def of(self, payee: str) -> list[SimInvoice]:
        return sorted(
            (inv for (owner, _), inv in self.by_hash.items() if owner == payee), key=lambda i: i.created_index
        )

    def mark_paid(self, invoice: SimInvoice, amount_received_msat: int) -> None:
        invoice.status = "paid"
        invoice.paid_at = self.node.now()
        invoice.amount_received_msat = amount_received_msat
        invoice.pay_index = self._pay_index.get(invoice.payee, 0) + 1
        self._pay_index[invoice.payee] = invoice.pay_index
        invoice.updated_index = self._updated_index.get(invoice.payee, 0) + 1
        self._updated_index[invoice.payee] = invoice.updated_index
        self.node.state.invoice_saved(invoice)
