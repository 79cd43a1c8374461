"""Fuzzing (issue 6, "Bad input gets a clear message, never a traceback"): valid inputs, mutated.

Every input starts from something valid and is mutated the way pasting, typing and tampering mutate it:
characters substituted (from the bech32 alphabet, so only the checksum can tell; printable; control characters;
Unicode look-alikes), inserted, deleted; the text cut off, its case flipped, wrapped in whitespace, newlines and
``lightning:`` prefixes, repeated to huge lengths; and, below the text, at the field level: the hrp's network
swapped (``lnbc``/``lntb``/``lntbs``/``lnbcrt``/``lnsb``...), the amount and its multiplier (m, u, n, p) changed,
a tagged field or the signature tampered with and the checksum recomputed, so that only the signature can tell.

The seeds are real signed invoices (the regtest simulator's ``dev-sim-invoice``, real lightningd's from
``shared/cln/transcripts``, BOLT 11's own vectors, one with an ``n`` field), valid amounts in every CLN format,
an exported route, a getroute and a getroutes answer, and valid headless command lines.

Targets and cases tried per run (hypothesis, ``derandomize=True``; the UI with a seeded generator):

- the engine: :func:`load_invoice` on the regtest node (``INVOICE_CASES``), tampered-and-rechecksummed invoices
  (``TAMPER_CASES``), :func:`parse_amount` against an independent reference reading (``AMOUNT_CASES``), route
  import of mutated JSON text and of mutated JSON structures (``ROUTE_TEXT_CASES`` + ``ROUTE_JSON_CASES``);
- the headless commands: ``lnconsole.cli.main(argv)`` in-process with mutated argument lists for decode, route,
  pay and history against the simulator (``CLI_CASES``): never a traceback, an exit code from ``pay --help``,
  a message on stderr, and never a ``sendpay`` on the node (it counts them) without ``--yes``;
- the UI: one app per field, typing many mutated inputs in a loop (``UI_CASES`` each): the invoice field, the
  amount field, the route import dialog and the split screen's custom amounts. The app keeps running, no worker
  fails, nothing unexpected is notified, and every refused input gets a message in place.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import bolt11
import pytest
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from textual import events
from textual.pilot import Pilot

from lnconsole.amounts import MAX_MSAT, AmountError, btc_text, format_msat, parse_amount
from lnconsole.app import LnConsoleApp, make_app
from lnconsole.cli import main
from lnconsole.invoice import InvoiceError, PayableInvoice, decode_invoice, load_invoice
from lnconsole.node import PylnNode
from lnconsole.plan import MAX_PARTS
from lnconsole.routing import Route, RouteImportError, route_from_json, route_to_json
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.route_dialogs import ImportRouteDialog
from lnconsole.screens.split import SplitScreen, parse_part_amounts
from lnconsole.sim.node import SimConfig
from lnconsole.sim.scenarios import build_scenario
from tests.conftest import SHARED, RunningSim

INVOICE_CASES = 300
TAMPER_CASES = 150
AMOUNT_CASES = 400
ROUTE_TEXT_CASES = 200
ROUTE_JSON_CASES = 200
CLI_CASES = 200
UI_CASES = 30
"""Inputs typed into each of the four UI fields (one app session per field)."""


def fuzz(cases: int) -> settings:
    """Hypothesis settings for ``cases`` examples, the same every run (no example database)."""
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=cases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


EXIT_CODES = {0, 1, 2, 3, 4}
"""``lnconsole pay --help``: done, failed, bad input, not sent (not confirmed), still pending."""

SPEC_COFFEE = (
    "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqq"
    "syqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53u"
    "t353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"
)
SPEC_HINTS = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsy"
    "qcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20"
    "q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcr"
    "qlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzq9qrsgqdfjcdk6w3ak5pca9hwfwfh63zrrz06wwfya0ydlzpgzxkn5xagsqz7x9"
    "j4jwe7yj7vaf2k9lqsdk45kts2fd0fkr28am0u4w95tt2nsq76cqw0"
)

# ---------------------------------------------------------------------------------------------------------------
# Mutations


CONFUSABLES = [
    "\u043e",  # Cyrillic o
    "\u0430",  # Cyrillic a
    "\u03bf",  # Greek omicron
    "\uff4c",  # fullwidth l
    "\uff11",  # fullwidth 1
    "\u0131",  # dotless i
    "\u0130",  # I with a dot: lower() makes two characters of it
    "\u00df",  # sharp s: upper() makes two
    "\ufb00",  # ff ligature
    "\u200b",  # zero-width space (no whitespace to str.split)
    "\u00a0",  # no-break space (whitespace)
    "\u2028",  # line separator
    "\ufeff",  # byte order mark
    "\u0000",
    "\u001b",
    "\u007f",
    "\u009b",  # C1 control sequence introducer
    "\r",
    "\t",
    "\n",
    "\u00b2",  # superscript two: isdigit() but not int()
    "\u0661",  # Arabic-Indic one: int() reads it
    "\U0001f600",
    "\ud800",  # a lone surrogate
]
PRINTABLE = [chr(code) for code in range(32, 127)]
HRP_PREFIXES = ["lnbc", "lntb", "lntbs", "lnbcrt", "lnsb", "lntbs1", "ln", "lnxyz", "lno", "lni", "lnr", "bc"]
MULTIPLIERS = ["", "m", "u", "n", "p", "x"]
SIGNATURE_WORDS = 104
TIMESTAMP_WORDS = 7


def rechecksum(hrp: str, words: list[int]) -> str:
    """A bech32 string with a valid checksum over ``hrp`` and ``words``: only the signature can tell."""
    polymod = bech32_polymod([*bech32_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    return hrp + "1" + "".join(CHARSET[word] for word in [*words, *((polymod >> 5 * (5 - i)) & 31 for i in range(6))])


def bech32_parts(text: str) -> tuple[str, list[int]] | None:
    """(hrp, data words without the checksum) of a lower-case bech32 string, or None."""
    position = text.rfind("1")
    if position < 1 or len(text) - position < 7 or any(char not in CHARSET for char in text[position + 1 :]):
        return None
    return text[:position], [CHARSET.index(char) for char in text[position + 1 : -6]]


def tamper(text: str, rnd: random.Random, *, signature: bool = False) -> str:
    """One data word of a tagged field (or of the signature) changed, the checksum recomputed."""
    parts = bech32_parts(text.lower())
    assert parts is not None and len(parts[1]) > TIMESTAMP_WORDS + SIGNATURE_WORDS, text
    hrp, words = parts
    low, high = (
        (len(words) - SIGNATURE_WORDS, len(words)) if signature else (TIMESTAMP_WORDS, len(words) - SIGNATURE_WORDS)
    )
    at = rnd.randrange(low, high)
    changed = list(words)
    changed[at] = rnd.choice([word for word in range(32) if word != words[at]])
    return rechecksum(hrp, changed)


def mutate_once(text: str, rnd: random.Random) -> str:
    """One mutation of ``text``: at the character level, or at the field level when it is bech32."""
    kind = rnd.randrange(16)
    if kind == 0 and text:  # a bech32 character for another: only the checksum can tell
        at = rnd.randrange(len(text))
        return text[:at] + rnd.choice(CHARSET) + text[at + 1 :]
    if kind == 1 and text:
        at = rnd.randrange(len(text))
        return text[:at] + rnd.choice(PRINTABLE + CONFUSABLES) + text[at + 1 :]
    if kind == 2:
        at = rnd.randrange(len(text) + 1)
        return text[:at] + rnd.choice([*CHARSET, *PRINTABLE, *CONFUSABLES]) + text[at:]
    if kind == 3 and text:
        at = rnd.randrange(len(text))
        return text[:at] + text[at + rnd.randint(1, 8) :]
    if kind == 4 and text:
        return text[: rnd.randrange(len(text))]
    if kind == 5:
        choice = rnd.randrange(3)
        if choice == 0:
            return text.upper()
        if choice == 1 or not text:
            return text.swapcase()
        at = rnd.randrange(len(text))
        return text[:at] + text[at].swapcase() + text[at + 1 :]
    if kind == 6:
        at = rnd.randrange(len(text) + 1)
        junk = "".join(
            rnd.choice([" ", "\n", "\r\n", "\t", "\u00a0", "\u2028", "\x00", "\x1b[31m", "\x1b]52;c;aGk=\x07"])
            for _ in range(rnd.randint(1, 3))
        )
        return text[:at] + junk + text[at:]
    if kind == 7:
        prefix = rnd.choice(
            [
                "lightning:",
                "LIGHTNING:",
                "lightning://",
                "Lightning:",
                "lightning:lightning:",
                "bitcoin:?lightning=",
                "lnurl:",
                "lightning: ",
                " lightning:",
            ]
        )
        return prefix + text
    if kind == 8:
        if rnd.random() < 0.5:
            return text * rnd.randint(2, 30)
        return text + rnd.choice(CHARSET) * rnd.randint(1, 5000)
    if kind == 9 and text:
        at = rnd.randrange(len(text))
        return text[:at] + rnd.choice(CONFUSABLES) + text[at + 1 :]
    parts = bech32_parts(text.lower())
    if parts is None:
        return text[::-1] if kind % 2 else text + text[: rnd.randint(1, 10)]
    hrp, words = parts
    if kind == 10:  # another network, re-checksummed
        amount = hrp[2:].lstrip("abcdefghijklmnopqrstuvwxyz")
        return rechecksum(rnd.choice(HRP_PREFIXES) + amount, words)
    if kind == 11:  # another amount and multiplier, re-checksummed
        currency = hrp[2:].rstrip("0123456789mnpux")
        amount = rnd.choice(
            [
                "",
                "0",
                "1",
                "10",
                "25",
                "2500",
                "000",
                "9" * rnd.randint(1, 30),
                "1" * rnd.choice([31, 4301, 5000]),
                str(rnd.randrange(10**12)),
                "0" * 40 + "1",
            ]
        )
        return rechecksum("ln" + currency + amount + rnd.choice(MULTIPLIERS), words)
    long_enough = len(words) > TIMESTAMP_WORDS + SIGNATURE_WORDS
    if kind in (12, 13) and long_enough:
        return tamper(text, rnd, signature=kind == 13)
    if kind == 14 and long_enough:  # words dropped or repeated inside the fields, re-checksummed
        at = rnd.randrange(TIMESTAMP_WORDS, len(words) - SIGNATURE_WORDS)
        count = rnd.randint(1, 12)
        if rnd.random() < 0.5:
            return rechecksum(hrp, words[:at] + words[at + count :])
        return rechecksum(hrp, words[:at] + words[at : at + count] * 2 + words[at + count :])
    return rechecksum(hrp, words[: rnd.randrange(len(words) + 1)])  # cut off, but re-checksummed


def mutate(text: str, rnd: random.Random) -> str:
    for _ in range(rnd.choice([1, 1, 1, 2, 3])):
        text = mutate_once(text, rnd)
    return text


def mutated(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed, mutated one to three times (hypothesis drives the random choices, so it can shrink them)."""
    return st.builds(lambda seed, rnd: mutate(seed, rnd), st.sampled_from(seeds), st.randoms(use_true_random=False))


# ---------------------------------------------------------------------------------------------------------------
# The node and the seeds


class CountingSim:
    """The regtest simulator, counting every ``sendpay`` that reaches it (whatever it answers)."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        self.sendpays: list[Any] = []
        inner = sim.server.call

        async def counting(method: str, params: Any, connection: Any = None) -> dict[str, Any]:
            if method == "sendpay":
                self.sendpays.append(params)
            return await inner(method, params, connection)

        sim.server.call = counting  # type: ignore[method-assign]

    @property
    def socket_path(self) -> Path:
        return self.sim.socket_path


@pytest.fixture(scope="module")
def net() -> Iterator[CountingSim]:
    """One regtest simulator for the whole module (the fuzz loops share it; nothing here pays)."""
    with tempfile.TemporaryDirectory(prefix="lnc-") as directory:
        sim = RunningSim(build_scenario("regtest", SimConfig(hop_delay_ms=1)), Path(directory) / "rpc")
        try:
            yield CountingSim(sim)
        finally:
            sim.stop()


def _issue(sim: RunningSim, **params: Any) -> str:
    params.setdefault("node", "C")
    return str(sim.rpc.call("dev-sim-invoice", params)["bolt11"])


def invoice_with_payee_field(sim: RunningSim) -> str:
    """A C invoice that names its payee in an ``n`` field: a tampered field then fails the signature check."""
    node = sim.node.find_node("C")
    tags = bolt11.Tags()
    tags.add(bolt11.TagChar.payment_secret, "11" * 32)
    tags.add(bolt11.TagChar.payment_hash, "22" * 32)
    tags.add(bolt11.TagChar.description, "names its payee")
    tags.add(bolt11.TagChar.payee, node.node_id)
    tags.add(bolt11.TagChar.min_final_cltv_expiry, 10)
    invoice = bolt11.Bolt11(
        currency="bcrt", date=int(time.time()), tags=tags, amount_msat=bolt11.MilliSatoshi(5_000_000)
    )
    return bolt11.encode(invoice, node.secret_key.hex(), ignore_exceptions=True, keep_payee=True)


@pytest.fixture(scope="module")
def invoices(net: CountingSim) -> list[str]:
    sim = net.sim
    found = [
        _issue(sim, amount_msat=50_000_000, description="coffee"),
        _issue(sim, amount_msat="any", description="tip jar"),
        _issue(sim, amount_msat=1_234_567, description="caf\u00e9 \u2615", expiry=60),
        _issue(sim, node="B", amount_msat=10, description="x" * 300),
        _issue(sim, node="E", amount_msat=540_000_000),
        _issue(sim, amount_msat=1000, description="sneaky \x1b]52;c;aGk=\x1b\\ \x1b[2J \u202e01"),
        invoice_with_payee_field(sim),
        SPEC_COFFEE,
        SPEC_HINTS,
    ]
    recorded = "".join(path.read_text() for path in sorted((SHARED / "cln" / "transcripts").glob("*.json")))
    recorded_invoices = []
    for text in sorted(set(re.findall(r"lnbcrt[0-9a-z]{100,}", recorded))):
        with contextlib.suppress(InvoiceError):  # the transcript also holds a bad checksum on purpose
            decode_invoice(text)
            recorded_invoices.append(text)
    assert len(recorded_invoices) >= 4
    return found + recorded_invoices[:4]


# ---------------------------------------------------------------------------------------------------------------
# (a) The engine: invoices


def _says_what(message: str) -> None:
    """A message for a person: not empty, no traceback, no Python repr of an exception class."""
    assert message.strip(), "an empty message"
    assert "Traceback" not in message and "Error:" not in message.split(":")[0], message


def test_mutated_invoices_load_or_are_refused_with_a_reason(net: CountingSim, invoices: list[str]) -> None:
    node = PylnNode(net.socket_path)
    tried: list[str] = []
    outcomes: dict[str, int] = {"payable": 0, "problems": 0, "refused": 0}

    @fuzz(INVOICE_CASES)
    @given(text=mutated(invoices))
    @example(text=rechecksum("lnbc" + "1" * 5000 + "m", bech32_parts(SPEC_COFFEE)[1]))  # type: ignore[index]
    @example(text=rechecksum("lnbc" + "0" * 4400 + "1u", bech32_parts(SPEC_COFFEE)[1]))  # type: ignore[index]
    def load(text: str) -> None:
        tried.append(text)
        try:
            payable = load_invoice(node, text)
        except InvoiceError as error:  # not ValueError: int() on a 5000-digit amount once escaped as one
            _says_what(error.reason)
            outcomes["refused"] += 1
            return
        assert isinstance(payable, PayableInvoice)
        for problem in payable.problems:
            _says_what(problem)
        if payable.problems:
            outcomes["problems"] += 1
        else:
            outcomes["payable"] += 1
            assert payable.ok and payable.amount_msat is not None

    load()
    assert len(tried) >= INVOICE_CASES
    assert all(outcomes.values()), outcomes  # the mutations reach every verdict
    assert net.sendpays == []


def test_tampered_fields_are_never_the_payees_word(net: CountingSim, invoices: list[str]) -> None:
    """A tagged field or the signature changed and the checksum recomputed: refused (the ``n`` field names the
    payee, or the signature does not recover), or read as the word of some other key, never of the payee."""
    node = PylnNode(net.socket_path)
    payees = {text: decode_invoice(text).payee for text in invoices}
    named = invoices[6]  # the invoice with an n field
    tried: list[str] = []

    @fuzz(TAMPER_CASES)
    @given(seed=st.sampled_from(invoices), rnd=st.randoms(use_true_random=False), signature=st.booleans())
    def check(seed: str, rnd: random.Random, signature: bool) -> None:
        text = tamper(seed, rnd, signature=signature)
        note(text)
        tried.append(text)
        try:
            payable = load_invoice(node, text)
        except InvoiceError as error:
            _says_what(error.reason)
            return
        assert payable.invoice.payee != payees[seed], "a tampered invoice was read as its payee's"
        assert seed != named, "an invoice naming its payee verified after tampering"

    check()
    assert len(tried) >= TAMPER_CASES
    with pytest.raises(InvoiceError, match="does not match the payee named in the invoice"):
        load_invoice(node, tamper(named, random.Random(1)))


# ---------------------------------------------------------------------------------------------------------------
# (a) The engine: amounts


AMOUNT_SEEDS = [
    "0",
    "1",
    "1000",
    "1000msat",
    "10sat",
    "10.000sat",
    "0.0001btc",
    "12.345sat",
    "1_000_000sat",
    "1 000 sat",
    "5MSAT",
    "21000000btc",
    "0.00000000001btc",
    format_msat(123_456_789),
    btc_text(MAX_MSAT),
    "2100000000000000000",
]
_REFERENCE = re.compile(r"([0-9]+)(?:\.([0-9]+))?(msat|sat|btc)?", re.ASCII)
_UNIT_MSAT = {None: 1, "msat": 1, "sat": 1000, "btc": 100_000_000_000}


def reference_amount(text: str) -> int | None:
    """An independent reading of CLN's amount formats: the msat, or None when it is not an amount."""
    cleaned = text.strip().replace("_", "").replace(" ", "").lower()
    match = _REFERENCE.fullmatch(cleaned)
    if match is None or (match[2] is not None and match[3] is None):
        return None
    whole, fraction, unit = match[1], match[2] or "0", match[3]
    with localcontext() as context:  # exact: as many digits as the text has
        context.prec = len(whole) + len(fraction) + 20
        value = Decimal(f"{whole}.{fraction}") * _UNIT_MSAT[unit]
        if value != value.to_integral_value() or value > MAX_MSAT:
            return None
        return int(value)


def test_mutated_amounts_parse_exactly_or_are_refused_with_a_reason() -> None:
    tried: list[str] = []

    @fuzz(AMOUNT_CASES)
    @given(text=mutated(AMOUNT_SEEDS))
    @example(text="0" * 25 + "1")  # leading zeros once made 1 msat "more than 21 million bitcoin"
    @example(text="0" * 5000 + "1sat")
    @example(text="\x1b[31m10sat")
    def parse(text: str) -> None:
        tried.append(text)
        expected = reference_amount(text)
        try:
            value = parse_amount(text)
        except AmountError as error:
            message = str(error)
            _says_what(message)
            assert len(message) < 200, "a message quotes the whole of a long input"
            assert not any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in message), repr(message)
            assert expected is None, f"{text!r} is {expected} msat, refused: {message}"
            return
        assert value == expected, f"{text!r} read as {value}, not {expected}"
        assert parse_amount(format_msat(value)) == value == parse_amount(btc_text(value))

    parse()
    assert len(tried) >= AMOUNT_CASES


# ---------------------------------------------------------------------------------------------------------------
# (a) The engine: route import


def _node(index: int) -> str:
    return "02" + f"{index:064x}"


SOURCE = _node(0)
SENDPAY_ROUTE = [
    {"id": _node(1), "channel": "103x1x0", "direction": 0, "amount_msat": 10_000_101, "delay": 16, "style": "tlv"},
    {"id": _node(2), "channel": "103x2x0", "direction": 1, "amount_msat": 10_000_000, "delay": 10, "style": "tlv"},
]
GETROUTES_ROUTE = {
    "routes": [
        {
            "probability_ppm": 999_000,
            "amount_msat": 10_000_000,
            "final_cltv": 10,
            "path": [
                {
                    "short_channel_id_dir": "103x3x0/0",
                    "node_id_out": _node(3),
                    "amount_out_msat": 10_000_101,
                    "cltv_out": 16,
                },
                {
                    "short_channel_id_dir": "103x4x0/1",
                    "node_id_out": _node(2),
                    "amount_out_msat": 10_000_000,
                    "cltv_out": 10,
                },
            ],
        }
    ]
}
ROUTE_SEEDS = [json.dumps(SENDPAY_ROUTE), json.dumps({"route": SENDPAY_ROUTE}), json.dumps(GETROUTES_ROUTE)]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    0.5,
    1e308,
    -1e308,
    2**32,
    2**64,
    10**30,
    "",
    "0",
    "1",
    "1000msat",
    "\u00b2",
    "1" * 5000,
    "103x1x0",
    "16777216x1x0",
    "103x1x0/2",
    "1x1x65536",
    _node(9),
    _node(9).upper(),
    "03" + "g" * 64,
    "legacy",
    "tlv",
    [],
    {},
    [1],
    {"id": 1},
]


def _mutate_value(value: Any, rnd: random.Random, depth: int = 0) -> Any:
    """One structural mutation somewhere inside a JSON value."""
    if isinstance(value, dict) and value and depth < 6 and rnd.random() < 0.8:
        key = rnd.choice(sorted(value))
        changed = dict(value)
        action = rnd.randrange(5)
        if action == 0:
            del changed[key]
        elif action == 1:
            changed[key + rnd.choice(["", "_", "X"])] = changed.pop(key)
        elif action == 2:
            changed[key] = rnd.choice(ODD_VALUES)
        else:
            changed[key] = _mutate_value(value[key], rnd, depth + 1)
        return changed
    if isinstance(value, list) and value and depth < 6 and rnd.random() < 0.8:
        changed_list = list(value)
        at = rnd.randrange(len(value))
        action = rnd.randrange(5)
        if action == 0:
            del changed_list[at]
        elif action == 1:
            changed_list.insert(at, changed_list[at])
        elif action == 2:
            changed_list.reverse()
        else:
            changed_list[at] = _mutate_value(value[at], rnd, depth + 1)
        return changed_list
    if isinstance(value, bool) or value is None:
        return rnd.choice(ODD_VALUES)
    if isinstance(value, int):
        return rnd.choice([value + 1, value - 1, -value, value * 10 ** rnd.randint(1, 20), 0, str(value), float(value)])
    if isinstance(value, str):
        return mutate_once(value, rnd) if rnd.random() < 0.6 else rnd.choice(ODD_VALUES)
    return rnd.choice(ODD_VALUES)


def _imported(text: str) -> Route | None:
    try:
        route = route_from_json(text, SOURCE)
    except RouteImportError as error:
        _says_what(error.message)
        return None
    for hop in route.hops:  # what sendpay would get is well formed
        assert re.fullmatch(r"0[23][0-9a-f]{64}", hop.node_id)
        assert re.fullmatch(r"[0-9]+x[0-9]+x[0-9]+", hop.short_channel_id) and hop.direction in (0, 1)
        assert 0 < hop.amount_msat <= MAX_MSAT and 0 <= hop.delay < 2**32
    again = route_from_json(route_to_json(route), SOURCE)
    assert again.to_sendpay() == route.to_sendpay()
    return route


def test_mutated_route_text_imports_or_is_refused_with_a_reason() -> None:
    tried: list[str] = []

    @fuzz(ROUTE_TEXT_CASES)
    @given(text=mutated(ROUTE_SEEDS))
    def check(text: str) -> None:
        tried.append(text)
        _imported(text)

    check()
    assert len(tried) >= ROUTE_TEXT_CASES


def test_mutated_route_structures_import_or_are_refused_with_a_reason() -> None:
    tried: list[str] = []
    imported: list[Route] = []

    @fuzz(ROUTE_JSON_CASES)
    @given(
        seed=st.sampled_from([SENDPAY_ROUTE, {"route": SENDPAY_ROUTE}, GETROUTES_ROUTE]),
        rnd=st.randoms(use_true_random=False),
    )
    @example(seed=[{**SENDPAY_ROUTE[0], "channel": "16777216x1x0"}], rnd=random.Random(0))
    def check(seed: Any, rnd: random.Random) -> None:
        data = seed
        for _ in range(rnd.randint(1, 3)):
            data = _mutate_value(data, rnd)
        text = json.dumps(data)
        note(text)
        tried.append(text)
        route = _imported(text)
        if route is not None:
            imported.append(route)

    check()
    assert len(tried) >= ROUTE_JSON_CASES and imported  # some mutations keep a route
    with pytest.raises(RouteImportError, match="is not a short_channel_id"):  # lightningd would refuse it later
        route_from_json(json.dumps([{**SENDPAY_ROUTE[0], "channel": "16777216x1x0"}]), SOURCE)


# ---------------------------------------------------------------------------------------------------------------
# (b) The headless commands


OPTIONS = [
    "--amount",
    "--exclude",
    "--maxhops",
    "--maxfee",
    "--maxdelay",
    "--parts",
    "--split",
    "--plan-liquidity",
    "--retry",
    "--timeout",
    "--json",
    "--status",
    "--limit",
    "--network",
    "--lightning-dir",
    "-h",
    "--",
    "-",
    "--amount=",
    "--parts=0",
    "--exclude=,,,",
    "--split=,",
    "--timeout=nan",
    "--maxhops=-1",
    "-v",
]
VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1e9",
    "nan",
    "inf",
    "-inf",
    "9" * 5000,
    "\u0661\u0662",
    "0x10",
    "1.5",
    "10sat",
    "1,2,3",
    ",",
    "103x1x0",
    "16777216x1x0/0",
    "103x1x0/2",
    "pending",
    "complete",
    "x" * 10000,
    "\x00",
    "\x1b[2J",
    "lightning:",
    "65",
    "64",
    "1msat,1msat",
    "99999999999999999999999",
]


def _mutate_argv(argv: list[str], rnd: random.Random, extra: list[str]) -> list[str]:
    """Mutations of everything after the command (the command stays: no ``sim`` server, no console app)."""
    argv = list(argv)
    for _ in range(rnd.choice([1, 1, 2, 3])):
        action = rnd.randrange(6)
        if action == 0 and len(argv) > 1:
            at = rnd.randrange(1, len(argv))
            argv[at] = mutate_once(argv[at], rnd)
        elif action == 1 and len(argv) > 1:
            del argv[rnd.randrange(1, len(argv))]
        elif action == 2:
            argv.insert(rnd.randrange(1, len(argv) + 1), rnd.choice(OPTIONS))
        elif action == 3 and len(argv) > 1:
            argv[rnd.randrange(1, len(argv))] = rnd.choice(VALUES + extra)
        elif action == 4:
            at = rnd.randrange(1, len(argv) + 1)
            argv[at:at] = [rnd.choice(OPTIONS), rnd.choice(VALUES + extra)]
        elif action == 5 and len(argv) > 2:
            first, second = rnd.sample(range(1, len(argv)), 2)
            argv[first], argv[second] = argv[second], argv[first]
    return argv


def consents(argv: list[str]) -> bool:
    """Whether argparse would read ``--yes`` (or ``-y``, or an abbreviation) anywhere in ``argv``."""
    return any(arg.startswith("-y") or (len(arg) >= 3 and "--yes".startswith(arg.split("=")[0])) for arg in argv)


def run_cli(argv: list[str], socket_path: Path) -> tuple[int, str, str]:
    """``main`` in this process, stdin a pipe that says yes (no terminal: it must not count as consent)."""
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO("yes\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([argv[0], "--rpc-file", str(socket_path), *argv[1:]])
            except SystemExit as exit_:  # argparse: 2 on a usage error, 0 for --help
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def command_lines(net: CountingSim, invoices: list[str]) -> list[list[str]]:
    inv, anyinv = invoices[0], invoices[1]
    b = net.sim.alias("B")
    return [
        ["decode", invoices[5]],  # its description holds escape sequences
        ["decode", inv],
        ["decode", inv, "--json"],
        ["decode", "lightning:" + anyinv],
        ["route", inv, "--exclude", "103x1x0/0", "--maxhops", "3", "--maxfee", "50sat", "--maxdelay", "100"],
        ["route", anyinv, "--amount", "12sat", "--split", "5sat,7sat", "--json"],
        ["route", inv, "--parts", "2", "--exclude", b],
        ["route", inv, "--plan-liquidity", "3", "--json"],
        ["pay", inv, "--retry", "2", "--timeout", "5"],
        ["pay", anyinv, "--amount", "0.0001btc", "--split", "3000sat,7000sat", "--json"],
        ["pay", inv, "--parts", "3", "--maxfee", "1sat"],
        ["history"],
        ["history", "--status", "pending", "--limit", "5", "--json"],
    ]


def test_mutated_command_lines_exit_with_a_documented_code_and_a_message(
    net: CountingSim, invoices: list[str], command_lines: list[list[str]]
) -> None:
    extra = [invoices[0], invoices[1], invoices[5], invoices[6], net.sim.alias("C"), net.sim.alias("A")]
    tried: list[list[str]] = []
    codes: dict[int, int] = {}

    @fuzz(CLI_CASES)
    @given(seed=st.sampled_from(command_lines), rnd=st.randoms(use_true_random=False))
    def check(seed: list[str], rnd: random.Random) -> None:
        argv = _mutate_argv(seed, rnd, extra)
        if consents(argv):
            argv = [arg for arg in argv if not consents([arg])]
        note(repr(argv))
        tried.append(argv)
        code, out, err = run_cli(argv, net.socket_path)
        codes[code] = codes.get(code, 0) + 1
        assert code in EXIT_CODES, (code, err)
        assert "Traceback" not in out + err
        assert "internal error" not in err, err  # the catch-all of headless.run: a bug that got a message
        if code != 0:
            last = err.strip().splitlines()[-1] if err.strip() else ""
            assert last.startswith("lnconsole"), f"exit {code} without a message: {err!r}"
        if "--json" in argv and "usage:" not in out + err:
            for line in out.splitlines():  # --json: every line of stdout is a JSON document
                json.loads(line)
        assert "\x1b" not in out + err  # escape sequences from the input (or an invoice) never reach a terminal
        assert net.sendpays == [], f"{argv} sent without --yes"

    check()
    assert len(tried) >= CLI_CASES
    assert len(codes) >= 3, codes  # mutations reach the commands, not only argparse's usage errors
    assert net.sendpays == []


# ---------------------------------------------------------------------------------------------------------------
# (c) The UI


def ui_inputs(seeds: list[str], count: int, seed: int) -> list[str]:
    """``count`` mutated inputs, the same every run."""
    rnd = random.Random(seed)
    return [mutate(rnd.choice(seeds), rnd) for _ in range(count)]


class Watched:
    """The app's notifications, recorded while a fuzz loop types into it: a failed worker is notified as an
    error by the app's one handler (the screens hand their workers' failures to it)."""

    def __init__(self, app: LnConsoleApp) -> None:
        self.notes: list[tuple[str, str, str]] = []
        original = app.notify

        def notify(message: str, **options: Any) -> None:
            self.notes.append((str(options.get("title", "")), str(message), str(options.get("severity", ""))))
            original(message, **options)

        app.notify = notify  # type: ignore[method-assign]
        self.app = app

    def check(self, what: str) -> None:
        """Still running, no worker failed, nothing unexpected notified."""
        assert self.app.is_running, f"the app stopped after {what!r}"
        failures = [note for note in self.notes if note[2] == "error" or "Traceback" in note[1]]
        assert not failures, f"{failures} after {what!r}"


async def wait_for(pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting after {what!r}"
        await pilot.pause(0.01)


def _text(widget: Any) -> str:
    return str(widget.render()) if widget.display else ""


def app_on(net: CountingSim) -> LnConsoleApp:
    return make_app(PylnNode(net.socket_path), poll_status=False)


def test_ui_invoice_field_takes_mutated_pastes(net: CountingSim, invoices: list[str]) -> None:
    import asyncio

    inputs = ui_inputs(invoices, UI_CASES, seed=6)

    async def run() -> int:
        app = app_on(net)
        shown = 0
        watched = Watched(app)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, InvoiceScreen), "start")
            screen = app.screen
            assert isinstance(screen, InvoiceScreen)
            for number, text in enumerate(inputs):
                screen.invoice_input.focus()
                if number % 3:
                    screen.invoice_input.post_message(events.Paste(text))
                else:  # typed (as one value) and Enter
                    screen.invoice_input.value = text
                    await pilot.press("enter")
                await pilot.pause()
                await wait_for(pilot, lambda: not screen.checking, text)
                await pilot.pause()
                watched.check(text)
                while app.screen is not screen:  # Enter on a payable invoice went on to the route editor
                    app.pop_screen()
                    await pilot.pause()
                if screen.payable is None:
                    refusal = _text(screen.problems_box)
                    assert refusal.startswith(("Not an invoice that can be paid:", "The invoice field is empty")), (
                        text,
                        refusal,
                    )
                else:
                    assert screen.details.display
                    verdict = _text(screen.problems_box) or _text(screen.status_line)
                    assert verdict.strip(), text
                shown += 1
            assert net.sendpays == []
        return shown

    assert asyncio.run(run()) == UI_CASES


def test_ui_amount_field_takes_mutated_amounts(net: CountingSim, invoices: list[str]) -> None:
    import asyncio

    inputs = ui_inputs(AMOUNT_SEEDS, UI_CASES, seed=7)

    async def run() -> int:
        app = app_on(net)
        seen = 0
        watched = Watched(app)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, InvoiceScreen), "start")
            screen = app.screen
            assert isinstance(screen, InvoiceScreen)
            screen.invoice_input.post_message(events.Paste(invoices[1]))  # any amount
            await wait_for(pilot, lambda: screen.payable is not None and not screen.checking, "the invoice")
            for text in inputs:
                screen.amount_input.value = text
                await pilot.pause()
                try:
                    expected: int | None = parse_amount(text)
                except AmountError:
                    expected = None
                if expected is None or expected == 0:
                    error = _text(screen.amount_error)
                    assert error.strip() and not screen.route_ready, (text, error)
                    assert "\x1b" not in error
                else:  # the invoice is checked again with it, once the typing pauses
                    typed = text.strip()
                    await wait_for(
                        pilot, lambda typed=typed: screen._checked_amount == typed and not screen.checking, text
                    )
                    assert screen.payable is not None and screen.payable.ok, (text, screen.payable)
                    assert screen.payable.amount_msat == expected and screen.route_ready
                    assert not screen.amount_error.display
                watched.check(text)
                seen += 1
        return seen

    assert asyncio.run(run()) == UI_CASES


def test_ui_route_import_takes_mutated_json(net: CountingSim, invoices: list[str]) -> None:
    import asyncio

    sim = net.sim
    node = PylnNode(net.socket_path)
    payable = load_invoice(node, invoices[0])
    assert payable.ok
    route_json = json.loads(
        json.dumps(
            [
                {"id": sim.alias("B"), "channel": "103x1x0", "direction": 0, "amount_msat": 50_000_501, "delay": 16},
                {"id": sim.alias("C"), "channel": "103x2x0", "direction": 0, "amount_msat": 50_000_000, "delay": 10},
            ]
        )
    )
    rnd = random.Random(8)
    inputs = []
    for number in range(UI_CASES):
        if number % 2:
            inputs.append(mutate(json.dumps(route_json), rnd))
        else:
            data: Any = route_json
            for _ in range(rnd.randint(1, 2)):
                data = _mutate_value(data, rnd)
            inputs.append(json.dumps(data))

    async def run() -> tuple[int, int]:
        app = app_on(net)
        refused = imported = 0
        watched = Watched(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, InvoiceScreen), "start")
            screen = RouteScreen(payable)
            await app.push_screen(screen)
            await wait_for(pilot, lambda: screen.route is not None and screen.our_id is not None, "the route")
            dialog: ImportRouteDialog | None = None
            for number, text in enumerate(inputs):
                if dialog is None:  # (re)open it: a refused paste keeps it open, to be corrected in place
                    await wait_for(pilot, lambda: screen._busy_with is None, "the route screen")
                    await pilot.press("m")
                    await wait_for(pilot, lambda: isinstance(app.screen, ImportRouteDialog), text)
                    assert isinstance(app.screen, ImportRouteDialog)
                    dialog = app.screen
                dialog.json_area.text = text
                if number % 3 == 0:
                    await pilot.press("ctrl+s")
                else:  # the same action without the key's round trip (a third of the cases press it)
                    dialog.action_import_route()
                await pilot.pause()
                if app.screen is dialog:  # refused in place, with what is wrong
                    assert _text(dialog.error).strip(), text
                    refused += 1
                else:
                    dialog = None
                    await wait_for(pilot, lambda: screen._busy_with is None, text)
                    await pilot.pause()
                    status = _text(screen.status)
                    assert status.startswith("Route imported:"), (text, status, watched.notes)
                    imported += 1
                watched.check(text)
            assert net.sendpays == []
        return refused, imported

    refused, imported = asyncio.run(run())
    assert refused + imported == UI_CASES and refused and imported


def test_ui_split_custom_amounts_take_mutated_lists(net: CountingSim, invoices: list[str]) -> None:
    import asyncio

    node = PylnNode(net.socket_path)
    payable = load_invoice(node, invoices[0])  # 50,000 sat to C
    seeds = [
        "20000sat, 30000sat",
        "10000sat,10000sat,30000000",
        "0.0005btc",
        "25000sat; 25000sat",
        "10000sat+10000sat+10000sat+10000sat+10000sat",
        "50000000msat",
    ]
    inputs = ui_inputs(seeds, UI_CASES, seed=9)

    async def run() -> int:
        app = app_on(net)
        seen = 0
        watched = Watched(app)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, InvoiceScreen), "start")
            screen = SplitScreen(payable)
            await app.push_screen(screen)
            await wait_for(pilot, lambda: not screen._planning, "the first plan")
            await pilot.click("#split-custom")
            await pilot.pause()
            assert screen.mode == "custom"
            for number, text in enumerate(inputs):
                screen.amounts_input.value = text
                await pilot.pause()
                summary = str(screen.sum_line.render())
                try:
                    amounts: list[int] | None = parse_part_amounts(text)
                except AmountError:
                    amounts = None
                if amounts is None:  # what is wrong (or, for nothing typed, what to type)
                    assert summary.strip() and not re.match(r"\d+ parts? add up", summary), (text, summary)
                else:
                    assert f"{len(amounts)} part" in summary, (text, summary)
                screen.amounts_input.focus()
                if number % 3 == 0:
                    await pilot.press("enter")
                else:  # Enter's action without the key's round trip
                    await screen.amounts_input.action_submit()
                await pilot.pause()
                await wait_for(pilot, lambda: not screen._planning, text)
                await pilot.pause()
                status = str(screen.status_line.render())
                if amounts is None:
                    assert status.strip() and screen.plan is None, (text, status)
                elif screen.plan is None:
                    assert status.startswith("No plan for"), (text, status)
                else:
                    assert sum(part.amount_msat for part in screen.plan.parts) == payable.amount_msat
                    assert len(screen.plan.parts) == len(amounts) <= MAX_PARTS
                watched.check(text)
                seen += 1
            assert net.sendpays == []
        return seen

    assert asyncio.run(run()) == UI_CASES
