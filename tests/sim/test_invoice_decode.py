"""invoice, listinvoices, decode and (old nodes) decodepay, against real lightningd and the BOLT 11 vectors.

``invoice_decode.json`` holds lightningd's own invoices and its decode of them: the simulator must decode
those strings to exactly the same answer, write its invoices with the same fields in the same order, and fail
with the same words. The BOLT 11 test vectors (taken from CLN's ``common/test/run-bolt11.c``, which checks
the spec's examples and the failure messages) are mainnet invoices signed by a known key; decode accepts
invoices of any chain, as lightningd does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import bolt11
import pytest

from lnconsole.sim.invoices import InvoiceBook, SimInvoice, invoice_secret
from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import (
    TRANSCRIPTS,
    assert_same_shape,
    direction,
    recorded,
    rpc_error,
    transcript,
    transcript_calls,
)

# BOLT 11 examples, signed with priv_key e126f68f...db734: payee 03e7156a...dd9ad, payment hash 0001...0102,
# payment secret 1111...1111, timestamp 1496314658.
SPEC_PAYEE = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
SPEC_HASH = "0001020304050607080900010203040506070809000102030405060708090102"
SPEC_SECRET = "11" * 32
DONATION = (
    "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqq"
    "syqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93"
    "dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql"
)
COFFEE = (
    "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzq"
    "fqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyk"
    "e0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"
)
HASHED = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfq"
    "qqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ez"
    "lrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7x39ymw6j38gp7ynn44"
)
HASHED_DESCRIPTION = (
    "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, "
    "one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, "
    "and one slice of watermelon"
)
FALLBACK_P2TR = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfq"
    "qqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfp4pptdvg0d2nj99568qn6ssdy4cygnwux"
    "gw2ukmnwgwz7jpqjz2kszs9qrsgqy606dznq28exnydt2r4c29y56xjtn3sk4mhgjtl4pg2y4ar3249rq4ajlmj9jy8zvlzw7cr8mggqzm84"
    "2xfr0v72rswzq9xvr4hknfsqwmn6xd"
)
UPPERCASE = (
    "LNBC2500U1PVJLUEZSP5ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGSPP5QQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQ"
    "FQQQSYQCYQ5RQWZQFQYPQDQ5XYSXXATSYP3K7ENXV4JSXQZPUCQPJEJ3HDW922T23KQLTFQDTUF2MGFQESVYFKKAQVE0HW8VD0CHQSTEJ60K02J"
    "4W6NP4CUJV87TUS82EDUYX7YTWFW4S58CJTG0U0A6TD6CQ3ADH8K"
)
TESTNET_UNKNOWN_FIELD = (
    "lntb30m1pw2f2yssp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5s59w4a0kjecw3zyexm7zur8l8n4scw674w8s"
    "ftjhwec33km882gsdpa2pshjmt9de6zqun9w96k2um5ypmkjargypkh2mr5d9cxzun5ypeh2ursdae8gxqruyqcqpjvzddp68gup69uhnzwf"
    "j9cejuvf3xshrwde68qcrswf0d46kcarfwpshyaplw3skw0tdw4k8g6tsv9e8gcz45tperrgam4d3t6hc9kaguyzx08mrqsfhfxkx5fmpufv"
    "xfvypypyjcpxzvnnzq9jwsm3htpkwkxqsp8jt95ekkzq8ck5vze4lpehqq5cdj22"
)
ROUTE_HINT = (
    "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68yetpd5s9xar0wf"
    "jn5gpc8qhrsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfskx6eqf9hzqnteypzxz7fzypfhg6"
    "trddjhygrcyqezcgpzfysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxsp5zy"
    "g3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4jyxcjwmy7stt9hwkwe2qxmy8z"
    "psgg7jcuwz87fcqqeuqqqyqqqqlgqqqqn3qq9q9qrsgqrvgkpnmps664wgkp43l22qsgdw4ve24aca4nymnxddlnp8vh9v2sdxlu5ywdxefs"
    "fvm0fq3sesf08uf6q9a2ke0hc9j6z6wlxg5z5kqpu2v9wz"
)
METADATA = (
    "lnbc10m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdp9wpshjmt9de6zqmt9w3skgct5vysxjmnnd9jx"
    "2mq8q8a04uqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q2gqqqqqqsgq7hf8he7ecf7n4ffphs6awl9t6676rr"
    "clv9ckg3d3ncn7fct63p6s365duk5wrk202cfy3aj5xnnp5gs3vrdvruverwwq7yzhkf5a3xqpd05wjc"
)
FEATURE_100 = (
    "lnbc25m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzq"
    "fqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdees9q4psqqqqqqqqqqqqqqqqsgq8w9mkdh2n9pmrsg5natjffcgjpp5caamstsq"
    "5pm03v2c7ca5ej3plyrfe3vyzl76v6wex4r8rd6rdvys4a35983n6wrzegcwfl2gl4qqxh98vj"
)
# Invoices lightningd refuses, with its message (run-bolt11.c).
REFUSED: list[tuple[str, str]] = [
    (
        "Bad bech32 string",
        (
            "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4ey"
            "qc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0n"
            "nqpnl2jfll544esqchsrnt"
        ),
    ),
    (
        "Bad bech32 string",
        (
            "LNBC2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4ey"
            "qc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0n"
            "nqpnl2jfll544esqchsrny"
        ),
    ),
    (
        "signature recovery failed",
        (
            "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu"
            "sp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqwgt7mcn5yqw3yx0w94pswkpq6j9uh6xfqqqtsk4"
            "tnarugeektd4hg5975x9am52rz4qskukxdmjemg92vvqz8nvmsye63r5ykel43pgz7zq0g2"
        ),
    ),
    (
        "Invalid amount postfix 'x'",
        (
            "lnbc2500x1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu"
            "sp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqrrzc4cvfue4zp3hggxp47ag7xnrlr8vgcmkjxk3"
            "j5jqethnumgkpqp23z9jclu3v0a7e0aruz366e9wqdykw6dxhdzcjjhldxq0w6wgqcnu43j"
        ),
    ),
    (
        "Invalid sub-millisatoshi amount '2500000001p'",
        (
            "lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4j"
            "sxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgq0lzc236j96a95uv0m3umg28gclm5lqxtq"
            "qwk32uuk4k6673k6n5kfvx3d2h8s295fad45fdhmusm8sjudfhlf6dcsxmfvkeywmjdkxcp99202x"
        ),
    ),
    (
        "Missing required payment secret (s field)",
        (
            "lnbc20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5"
            "d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfe"
            "awfk6swupvz4erwnyutnjq7x39ymw6j38gp49qdkj"
        ),
    ),
    (
        "d: invalid utf8",
        (
            "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5gfskggz423rz6wp6yrqqcqpjkkrsmq"
            "07c4ht7qgjdmf2a8savsafcy8lqn4av4gs80gz88ff2y780tdcve7sxp80kd4vk7hajt5mskcsegz2qfll4jywfwhap2q2n6cqyz"
            "5tv4"
        ),
    ),
    (
        "r: hop 0 pubkey invalid",
        (
            "lnbc1qqygh9qpp50qzxqqqqqpqqrzjcqqqqqqqqqqqqqqqqqqqqqqqqqqcqpjqqqqqqrzjcqqqqqcqpjqqqqqqqqqqqqqqqqqqqq"
            "qqqqqcq9qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
            "qqqqlqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqlqqqqqqqqqqqqqqqqqqqqqqq4murj7"
        ),
    ),
    ("9: unknown feature bit 100", FEATURE_100),
]


def token(text: str) -> str:
    return f'"{text}"'


def decode_error(rpc: Any, text: str) -> dict[str, Any]:
    return rpc_error(lambda: rpc.call("decode", {"string": text}))


def decoded(rpc: Any, text: str) -> dict[str, Any]:
    answer = rpc.call("decode", {"string": text})
    assert_valid_response("decode", answer)
    return answer  # type: ignore[no-any-return]


def give_us_inbound(sim: RunningSim) -> None:
    """Move half of A-B to B, so that our invoices have a channel that can pay them (one route hint)."""
    sim.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": "103x1x0", "direction": direction(sim, "B", "A"), "spendable_msat": 500_000_000},
    )


# ------------------------------------------------------------------------------------------------------------
# decode


def test_decode_of_lightningds_invoice_is_exactly_lightningds(regtest: RunningSim) -> None:
    request = next(c for c in transcript_calls("decode", "invoice_decode") if "result" in c["response"])
    answer = decoded(regtest.rpc, request["request"]["params"]["string"])
    assert answer == request["response"]["result"]
    assert list(answer) == list(request["response"]["result"])


def test_decode_errors_are_lightningds(regtest: RunningSim) -> None:
    for call in transcript_calls("decode", "invoice_decode"):
        if "error" in call["response"]:
            assert decode_error(regtest.rpc, call["request"]["params"]["string"]) == call["response"]["error"]


def test_decode_of_garbage_and_prefixes(regtest: RunningSim) -> None:
    assert decode_error(regtest.rpc, "hello") == {
        "code": -32602,
        "message": "string: Unparsable string: invalid token '\"hello\"'",
    }
    assert decode_error(regtest.rpc, "lnbc") == {
        "code": -32602,
        "message": "string: Unparsable string: invalid token '\"lnbc\"'",
    }
    assert rpc_error(lambda: regtest.rpc.call("decode", {"string": 5})) == {
        "code": -32602,
        "message": "string: Unparsable string: invalid token '5'",
    }
    assert rpc_error(lambda: regtest.rpc.call("decode", {})) == {
        "code": -32602,
        "message": "missing required parameter: string",
    }
    # A lightning: URI prefix is dropped; lightningd's error then quotes from the prefix's colon on.
    assert decoded(regtest.rpc, "lightning:" + DONATION)["payment_hash"] == SPEC_HASH
    assert decoded(regtest.rpc, "LIGHTNING:" + UPPERCASE)["payee"] == SPEC_PAYEE
    assert decode_error(regtest.rpc, "lightning:lnbc1notaninvoice") == {
        "code": -32602,
        "message": "string: Bad bech32 string: invalid token ':lnbc1notaninvoice\"'",
    }


def test_decode_accepts_the_bolt11_spec_examples(regtest: RunningSim) -> None:
    donation = decoded(regtest.rpc, DONATION)
    assert donation == {
        "type": "bolt11 invoice",
        "currency": "bc",
        "created_at": 1496314658,
        "expiry": 3600,
        "payee": SPEC_PAYEE,
        "description": "Please consider supporting this project",
        "min_final_cltv_expiry": 18,
        "payment_secret": SPEC_SECRET,
        "features": "4100",
        "payment_hash": SPEC_HASH,
        "signature": donation["signature"],
        "valid": True,
    }
    assert donation["signature"].startswith("3044") or donation["signature"].startswith("3045")

    coffee = decoded(regtest.rpc, COFFEE)
    assert (coffee["amount_msat"], coffee["description"], coffee["expiry"]) == (
        250_000_000,
        "1 cup coffee",
        60,
    )
    hashed = decoded(regtest.rpc, HASHED)
    assert hashed["amount_msat"] == 2_000_000_000
    assert hashed["description_hash"] == hashlib.sha256(HASHED_DESCRIPTION.encode()).hexdigest()
    assert "description" not in hashed
    fallback = decoded(regtest.rpc, FALLBACK_P2TR)
    assert fallback["fallbacks"] == [
        {
            "type": "P2TR",
            "addr": "bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm",
            "hex": "51200adac43daa9c8a5a68e09ea10692b82226ee190e572db9b90e17a410484ab405",
        }
    ]
    upper = decoded(regtest.rpc, UPPERCASE)
    assert (upper["payee"], upper["amount_msat"], upper["min_final_cltv_expiry"]) == (
        SPEC_PAYEE,
        250_000_000,
        18,
    )
    testnet = decoded(regtest.rpc, TESTNET_UNKNOWN_FIELD)
    assert testnet["currency"] == "tb" and testnet["expiry"] == 28800
    assert testnet["extra"] == [
        {"tag": "v", "data": "dp68gup69uhnzwfj9cejuvf3xshrwde68qcrswf0d46kcarfwpshyaplw3skw0tdw4k8g6tsv9e8g"}
    ]
    hint = decoded(regtest.rpc, ROUTE_HINT)
    assert hint["amount_msat"] == 967878534
    assert hint["routes"] == [
        [
            {
                "pubkey": "03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7",
                "short_channel_id": "589390x3312x1",
                "fee_base_msat": 1000,
                "fee_proportional_millionths": 2500,
                "cltv_expiry_delta": 40,
            }
        ]
    ]
    metadata = decoded(regtest.rpc, METADATA)
    assert (metadata["payment_metadata"], metadata["features"]) == ("01fafaf0", "01000000004100")
    # Every answer names the fields in lightningd's order.
    order = list(recorded("invoice_decode", "decode")["result"])
    for answer in (donation, coffee, hashed, fallback, hint, metadata):
        keys = [key for key in answer if key in order]
        assert keys == [key for key in order if key in answer]


def test_decode_refuses_what_lightningd_refuses(regtest: RunningSim) -> None:
    for reason, text in REFUSED:
        if reason.startswith("Invalid amount postfix"):
            # "2500x" is no BOLT 11 amount, so decode does not take it for an invoice (offers.c guess_type)
            # and answers with its generic words; decodepay, which only reads invoices, gives the reason.
            reason = "Unparsable string"
        assert decode_error(regtest.rpc, text) == {
            "code": -32602,
            "message": f"string: {reason}: invalid token '{token(text)}'",
        }, reason


def test_decode_checks_the_signature_against_the_n_field(regtest: RunningSim) -> None:
    """A corrupted signature that still parses: recovery yields another key, so the payee changes; with an
    explicit payee (n) lightningd refuses it."""
    invoice = regtest.rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": 1000})["bolt11"]
    parsed = bolt11.decode(invoice)
    tampered = bolt11.encode(parsed, keep_payee=True)  # adds n; the old signature no longer covers the data
    assert (
        decode_error(regtest.rpc, tampered)["message"]
        == f"string: invalid signature: invalid token '{token(tampered)}'"
    )


# ------------------------------------------------------------------------------------------------------------
# invoice


def test_invoice_answers_like_lightningd_and_decodes_back(regtest: RunningSim) -> None:
    give_us_inbound(regtest)
    answer = regtest.rpc.invoice(50_000_000, "decode-1", "decode me", expiry=3600)
    assert_valid_response("invoice", answer)
    assert_same_shape(answer, recorded("invoice_decode", "invoice")["result"])
    assert answer["bolt11"].startswith("lnbcrt500u1")
    assert answer["created_index"] == 1

    dec = decoded(regtest.rpc, answer["bolt11"])
    assert_same_shape(dec, recorded("invoice_decode", "decode")["result"])
    assert dec["payee"] == regtest.node.our_id
    assert (dec["amount_msat"], dec["description"], dec["expiry"]) == (50_000_000, "decode me", 3600)
    assert (dec["payment_hash"], dec["payment_secret"]) == (answer["payment_hash"], answer["payment_secret"])
    assert (dec["min_final_cltv_expiry"], dec["features"]) == (10, "02024100")
    assert dec["created_at"] + 3600 == answer["expires_at"]
    assert dec["routes"] == [
        [
            {
                "pubkey": regtest.alias("B"),
                "short_channel_id": "103x1x0",
                "fee_base_msat": 1,
                "fee_proportional_millionths": 10,
                "cltv_expiry_delta": 6,
            }
        ]
    ]
    # An independent decoder agrees, signature included.
    independent = bolt11.decode(answer["bolt11"])
    assert independent.payee == regtest.node.our_id
    assert independent.payment_hash == answer["payment_hash"]


def test_invoice_for_any_amount(regtest: RunningSim) -> None:
    give_us_inbound(regtest)
    answer = regtest.rpc.invoice("any", "any-1", "any amount")
    assert_valid_response("invoice", answer)
    assert_same_shape(answer, recorded("invoice_decode", "invoice", 1)["result"])
    dec = decoded(regtest.rpc, answer["bolt11"])
    assert answer["bolt11"].startswith("lnbcrt1")
    assert "amount_msat" not in dec and dec["expiry"] == 604800


def test_invoice_too_big_for_our_inbound_warns_like_lightningd(regtest: RunningSim) -> None:
    answer = regtest.rpc.invoice(10_000_000_000, "huge-1", "more than we can receive")
    assert_valid_response("invoice", answer)
    assert_same_shape(answer, recorded("invoice_decode", "invoice", 3)["result"])
    real = recorded("invoice_decode", "invoice", 3)["result"]
    assert answer["warning_mpp"] == real["warning_mpp"]
    assert answer["warning_capacity"] == real["warning_capacity"]
    # Not enough inbound anywhere: every channel goes in, round-robin, as lightningd does.
    routes = decoded(regtest.rpc, answer["bolt11"])["routes"]
    assert sorted(route[0]["short_channel_id"] for route in routes) == ["103x1x0", "103x3x0"]


def test_invoice_duplicate_label_and_preimage(regtest: RunningSim) -> None:
    preimage = "42" * 32
    first = regtest.rpc.invoice(1000, "label-1", "first", preimage=preimage)
    assert first["payment_hash"] == hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
    # lightningd derives the payment_secret from the preimage (invoice_secret: first bit flipped, SHA256).
    assert first["payment_secret"] == hashlib.sha256(bytes.fromhex("43" + "42" * 31)).hexdigest()
    assert rpc_error(lambda: regtest.rpc.invoice(1000, "label-1", "dup label")) == {
        "code": 900,
        "message": "Duplicate label 'label-1'",
    }
    assert rpc_error(lambda: regtest.rpc.invoice(1000, "label-2", "dup preimage", preimage=preimage)) == {
        "code": 901,
        "message": "preimage already used",
    }
    # A numeric label is its decimal text.
    regtest.rpc.invoice(1000, 7, "numeric")
    assert rpc_error(lambda: regtest.rpc.invoice(1000, "7", "same label")) == {
        "code": 900,
        "message": "Duplicate label '7'",
    }


def test_invoice_recorded_duplicate_label_error(regtest: RunningSim) -> None:
    real = next(c for c in transcript_calls("invoice", "invoice_decode") if "error" in c["response"])
    label = real["request"]["params"]["label"]
    regtest.rpc.invoice(50_000_000, label, "decode me")
    assert rpc_error(lambda: regtest.rpc.call("invoice", real["request"]["params"])) == real["response"]["error"]


def test_invoice_options(regtest: RunningSim) -> None:
    hashed = regtest.rpc.invoice(1000, "hashed", "a long story", deschashonly=True, cltv=40, expiry=60)
    dec = decoded(regtest.rpc, hashed["bolt11"])
    assert dec["description_hash"] == hashlib.sha256(b"a long story").hexdigest()
    assert "description" not in dec
    assert (dec["min_final_cltv_expiry"], dec["expiry"]) == (40, 60)
    with_fallback = regtest.rpc.invoice(
        1000, "fallback", "on chain too", fallbacks=["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]
    )
    assert decoded(regtest.rpc, with_fallback["bolt11"])["fallbacks"] == [
        {
            "type": "P2WPKH",
            "addr": "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
            "hex": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
        }
    ]
    long_ok = regtest.rpc.invoice(1000, "long", "x" * 2000, deschashonly=True)
    assert_valid_response("invoice", long_ok)


def test_invoice_secrets_derive_from_preimages_as_in_the_transcripts() -> None:
    """Every recorded invoice whose preimage a later answer shows has lightningd's derived payment_secret."""
    secrets: dict[str, str] = {}
    preimages: dict[str, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "payment_hash" in value and "payment_secret" in value:
                secrets[value["payment_hash"]] = value["payment_secret"]
            if "payment_hash" in value and "payment_preimage" in value:
                preimages[value["payment_hash"]] = value["payment_preimage"]
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in TRANSCRIPTS.glob("sendpay_*.json"):
        walk(transcript(path.stem))
    known = sorted(set(secrets) & set(preimages))
    assert len(known) >= 3
    for payment_hash in known:
        assert invoice_secret(bytes.fromhex(preimages[payment_hash])) == secrets[payment_hash]


def test_invoice_parameter_errors(regtest: RunningSim) -> None:
    rpc = regtest.rpc
    cases: list[tuple[Callable[[], object], int, str]] = [
        (
            lambda: rpc.invoice(0, "l", "d"),
            -32602,
            "amount_msat: should be positive msat or 'any': invalid token '0'",
        ),
        (
            lambda: rpc.invoice("lots", "l", "d"),
            -32602,
            "amount_msat: should be positive msat or 'any': invalid token '\"lots\"'",
        ),
        (
            lambda: rpc.call("invoice", {"amount_msat": 1000, "description": "d"}),
            -32602,
            "missing required parameter: label",
        ),
        (
            lambda: rpc.invoice(1000, "l", "d", preimage="zz"),
            -32602,
            "preimage: should be 64 hex digits: invalid token '\"zz\"'",
        ),
        (lambda: rpc.invoice(1000, "l" * 129, "d"), -32602, f"Label '{'l' * 129}' over 128 bytes"),
        (
            lambda: rpc.invoice(1000, "l", "d" * 640),
            -32602,
            "Description greater than 639 bytes invalid (description length 640)",
        ),
        (
            lambda: rpc.invoice(1000, "l", "d", fallbacks=["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]),
            -1,
            "Fallback address does not match our network regtest",
        ),
        (lambda: rpc.invoice(1000, "l", "d", fallbacks=["nonsense"]), -1, "Fallback address not valid"),
        (
            lambda: rpc.invoice(1000, "l", "d", exposeprivatechannels="103x2x0"),
            902,
            "None of those hints were suitable local channels",
        ),
        (
            lambda: rpc.invoice(1000, "l", "d", exposeprivatechannels=["103x1x0", "nope"]),
            -32602,
            "exposeprivatechannels: should be a short channel id: invalid token '\"nope\"'",
        ),
        (
            lambda: rpc.invoice(1000, "l", "d", cltv="soon"),
            -32602,
            "cltv: should be an integer: invalid token '\"soon\"'",
        ),
        (  # a digit, but not an ASCII one: refused like any other non-number (not an internal error)
            lambda: rpc.invoice(1000, "l", "d", cltv="\u00b2"),
            -32602,
            "cltv: should be an integer: invalid token '\"\u00b2\"'",
        ),
        (
            lambda: rpc.invoice(1000, "l", "d", expiry="\u00b2"),
            -32602,
            "expiry: should be an unsigned 64 bit integer: invalid token '\"\u00b2\"'",
        ),
    ]
    for call, code, message in cases:
        assert rpc_error(call) == {"code": code, "message": message}
    assert rpc.listinvoices()["invoices"] == []


def test_invoice_route_hints_follow_exposeprivatechannels(regtest: RunningSim) -> None:
    give_us_inbound(regtest)

    def make_private() -> None:
        regtest.node.network.channels["103x1x0"].public = False

    regtest.on_loop(make_private)
    # We still have a public channel, so by default the private one is not revealed.
    plain = decoded(regtest.rpc, regtest.rpc.invoice(1000, "p1", "d")["bolt11"])
    assert all(route[0]["short_channel_id"] != "103x1x0" for route in plain.get("routes", []))
    exposed = decoded(regtest.rpc, regtest.rpc.invoice(1000, "p2", "d", exposeprivatechannels=True)["bolt11"])
    assert exposed["routes"][0][0]["short_channel_id"] == "103x1x0"
    named = decoded(regtest.rpc, regtest.rpc.invoice(1000, "p3", "d", exposeprivatechannels="103x1x0")["bolt11"])
    assert [route[0]["short_channel_id"] for route in named["routes"]] == ["103x1x0"]


# ------------------------------------------------------------------------------------------------------------
# listinvoices


def test_listinvoices_like_lightningd(regtest: RunningSim) -> None:
    created = regtest.rpc.invoice(50_000_000, "decode-1", "decode me", expiry=3600)
    other = regtest.rpc.invoice("any", "other", "second")
    by_label = regtest.rpc.listinvoices("decode-1")
    assert_valid_response("listinvoices", by_label)
    assert_same_shape(by_label, recorded("invoice_decode", "listinvoices")["result"])
    entry = by_label["invoices"][0]
    assert (entry["bolt11"], entry["status"], entry["amount_msat"]) == (
        created["bolt11"],
        "unpaid",
        50_000_000,
    )
    assert (entry["expires_at"], entry["created_index"]) == (created["expires_at"], 1)
    assert regtest.rpc.listinvoices(payment_hash=other["payment_hash"])["invoices"][0]["label"] == "other"
    assert regtest.rpc.listinvoices(invstring=other["bolt11"])["invoices"][0]["label"] == "other"
    assert [i["label"] for i in regtest.rpc.listinvoices()["invoices"]] == ["decode-1", "other"]
    assert [i["label"] for i in regtest.rpc.listinvoices(index="created", start=2)["invoices"]] == ["other"]
    assert [i["label"] for i in regtest.rpc.listinvoices(index="created", limit=1)["invoices"]] == ["decode-1"]
    assert regtest.rpc.listinvoices("nope") == {"invoices": []}
    # Invoices of other nodes are theirs, not ours.
    regtest.rpc.call("dev-sim-invoice", {"node": "C", "label": "c-invoice"})
    assert regtest.rpc.listinvoices("c-invoice") == {"invoices": []}


def test_listinvoices_paid_and_expired(regtest: RunningSim) -> None:
    paid = regtest.rpc.invoice(1000, "paid", "will be paid")
    regtest.rpc.invoice(1000, "short", "expires at once", expiry=0)

    def pay() -> None:
        book = regtest.node.component(InvoiceBook)
        invoice = book.find(regtest.node.our_id, paid["payment_hash"])
        assert isinstance(invoice, SimInvoice)
        book.mark_paid(invoice, 1000)

    regtest.on_loop(pay)
    answer = regtest.rpc.listinvoices()
    assert_valid_response("listinvoices", answer)
    by_label = {entry["label"]: entry for entry in answer["invoices"]}
    assert by_label["paid"]["status"] == "paid"
    assert (by_label["paid"]["pay_index"], by_label["paid"]["amount_received_msat"]) == (1, 1000)
    assert hashlib.sha256(bytes.fromhex(by_label["paid"]["payment_preimage"])).hexdigest() == paid["payment_hash"]
    assert list(by_label["paid"])[:9] == [
        "label",
        "bolt11",
        "payment_hash",
        "amount_msat",
        "status",
        "pay_index",
        "amount_received_msat",
        "paid_at",
        "payment_preimage",
    ]
    assert by_label["short"]["status"] == "expired"
    assert [i["label"] for i in regtest.rpc.listinvoices(index="updated")["invoices"]] == ["paid"]


def test_listinvoices_parameter_errors(regtest: RunningSim) -> None:
    rpc = regtest.rpc
    assert rpc_error(lambda: rpc.listinvoices("a", payment_hash="00" * 32)) == {
        "code": -32602,
        "message": "Can only specify one of {label}, {invstring}, {payment_hash} or {offer_id}",
    }
    assert rpc_error(lambda: rpc.listinvoices(start=1)) == {
        "code": -32602,
        "message": "Can only specify {start} with {index}",
    }
    assert rpc_error(lambda: rpc.listinvoices(limit=1)) == {
        "code": -32602,
        "message": "Can only specify {limit} with {index}",
    }
    assert rpc_error(lambda: rpc.listinvoices(invstring="lnbcrt1garbage")) == {
        "code": -32602,
        "message": "Invalid invstring",
    }
    assert rpc_error(lambda: rpc.listinvoices(index="sideways")) == {
        "code": -32602,
        "message": "index: unknown index: invalid token '\"sideways\"'",
    }
    assert rpc_error(lambda: rpc.listinvoices(payment_hash="beef")) == {
        "code": -32602,
        "message": "payment_hash: should be a 32 byte hex value: invalid token '\"beef\"'",
    }


# ------------------------------------------------------------------------------------------------------------
# decodepay: old nodes only


def test_decodepay_is_gone_on_current_nodes(regtest: RunningSim) -> None:
    real = recorded("invoice_decode", "decodepay")
    assert rpc_error(lambda: regtest.rpc.call("decodepay", {"bolt11": DONATION})) == real["error"]


@pytest.fixture
def legacy(start_sim: Callable[..., RunningSim]) -> RunningSim:
    return start_sim("regtest", generation="legacy")


def test_legacy_node_has_decodepay_with_decodes_fields(legacy: RunningSim) -> None:
    assert legacy.rpc.getinfo()["version"] == "v24.08-sim"
    answer = legacy.rpc.call("decodepay", {"bolt11": "lightning:" + DONATION.upper()})
    full = decoded(legacy.rpc, DONATION)
    assert answer == {key: value for key, value in full.items() if key not in ("type", "valid")}
    assert legacy.rpc.call("decodepay", {"bolt11": HASHED, "description": HASHED_DESCRIPTION})["amount_msat"] == (
        2_000_000_000
    )


def test_legacy_decodepay_errors(legacy: RunningSim) -> None:
    assert rpc_error(lambda: legacy.rpc.call("decodepay", {"bolt11": "lnbc1notaninvoice"})) == {
        "code": -1,
        "message": "Invalid bolt11: Bad bech32 string",
    }
    postfix = next(text for reason, text in REFUSED if reason.startswith("Invalid amount postfix"))
    assert rpc_error(lambda: legacy.rpc.call("decodepay", {"bolt11": postfix})) == {
        "code": -1,
        "message": "Invalid bolt11: Invalid amount postfix 'x'",
    }
    assert rpc_error(lambda: legacy.rpc.call("decodepay", {"bolt11": HASHED, "description": "something else"})) == {
        "code": -1,
        "message": "Invalid bolt11: h: does not match description",
    }
    assert rpc_error(lambda: legacy.rpc.call("decodepay", {})) == {
        "code": -32602,
        "message": "missing required parameter: bolt11",
    }


def test_decode_exists_on_both_generations(legacy: RunningSim, regtest: RunningSim) -> None:
    for sim in (legacy, regtest):
        assert decoded(sim.rpc, COFFEE)["amount_msat"] == 250_000_000
