"""Pasted invoices: decoded, cross-checked with the node, refused with a reason, or made ready to pay.

Invoices come from the simulated node (``dev-sim-invoice``, signed by the payee's key) and from the BOLT 11
specification's own test vectors (as CLN's ``common/test/run-bolt11.c`` and ``tests/test_pay.py`` quote them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import bolt11
import pytest
from bech32 import CHARSET, bech32_decode, bech32_encode
from coincurve import PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lnconsole.invoice import (
    HintHop,
    Invoice,
    InvoiceError,
    check_invoice,
    clean_invoice_text,
    cross_check,
    decode_invoice,
    load_invoice,
)
from lnconsole.node import METHOD_NOT_FOUND, NodeError, PylnNode
from lnconsole.sim.invoices import decode_bolt11, sign_bolt11
from tests.conftest import RunningSim

# ---------------------------------------------------------------------------------------------------------------
# BOLT 11 test vectors (signed with priv_key e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734)

SPEC_PAYEE = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
SPEC_HASH = "0001020304050607080900010203040506070809000102030405060708090102"
SPEC_SECRET = "11" * 32
SPEC_TIME = 1496314658
CAKE_HASH = "3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1"
BASE_FEATURES = "4100"  # var_onion_optin (8) and payment_secret (14), required

DONATION = (
    "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqc"
    "yq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dl"
    "qnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql"
)
COFFEE = (
    "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqq"
    "syqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53u"
    "t353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"
)
NONSENSE = (
    "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqq"
    "syqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpu9qrsgqhtjpauu9ur7fw2thcl4y9vfvh4m9wlfyz2gem29g5ghe2aak"
    "2pm3ps8fdhtceqsaagty2vph7utlgj48u0ged6a337aewvraedendscp573dxr"
)
CAKE = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsy"
    "qcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8"
    "r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7x39ymw6j38gp7ynn44"
)
TESTNET_P2PKH = (
    "lntb20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98k"
    "lysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9vax37wxq72un989qrsgq"
    "dj545axuxtnfemtpwkc45hx9d2ft7x04mt8q7y6t0k2dge9e7h8kpy9p34ytyslj3yu569aalz2xdk8xkd7ltxqld94u8h2esmsmacgpghe9k8"
)
MAINNET_P2PKH_HINTS = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsy"
    "qcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20"
    "q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcr"
    "qlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzq9qrsgqdfjcdk6w3ak5pca9hwfwfh63zrrz06wwfya0ydlzpgzxkn5xagsqz7x9"
    "j4jwe7yj7vaf2k9lqsdk45kts2fd0fkr28am0u4w95tt2nsq76cqw0"
)
MAINNET_P2SH = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98k"
    "lysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppj3a24vwu6r8ejrss3axul8rxldph2q7z99qrsgq"
    "z6qsgww34xlatfj6e3sngrwfy3ytkt29d2qttr8qz2mnedfqysuqypgqex4haa2h8fx3wnypranf3pdwyluftwe680jjcfp438u82xqphf75ym"
)
MAINNET_P2WPKH = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98k"
    "lysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppqw508d6qejxtdg4y5r3zarvary0c5xw7k9qrsgq"
    "t29a0wturnys2hhxpner2e3plp6jyj8qx7548zr2z7ptgjjc7hljm98xhjym0dg52sdrvqamxdezkmqg4gdrvwwnf0kv2jdfnl4xatsqmrnsse"
)
MAINNET_P2WSH = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98k"
    "lysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfp4qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gd"
    "cccefvpysxf3q9qrsgq9vlvyj8cqvq6ggvpwd53jncp9nwc47xlrsnenq2zp70fq83qlgesn4u3uyf4tesfkkwwfg3qs54qe426hp3tz7z6sweq"
    "djg05axsrjqp9yrrwc"
)
MAINNET_P2TR = (
    "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsy"
    "qcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfp4pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnw"
    "gwz7jpqjz2kszs9qrsgqy606dznq28exnydt2r4c29y56xjtn3sk4mhgjtl4pg2y4ar3249rq4ajlmj9jy8zvlzw7cr8mggqzm842xfr0v72rswz"
    "q9xvr4hknfsqwmn6xd"
)
UPPERCASE = (
    "LNBC2500U1PVJLUEZSP5ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGSPP5QQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQFQQQ"
    "SYQCYQ5RQWZQFQYPQDQ5XYSXXATSYP3K7ENXV4JSXQZPUCQPJEJ3HDW922T23KQLTFQDTUF2MGFQESVYFKKAQVE0HW8VD0CHQSTEJ60K02J4W6NP4"
    "CUJV87TUS82EDUYX7YTWFW4S58CJTG0U0A6TD6CQ3ADH8K"
)
TESTNET_UNKNOWN_FIELD = (
    "lntb30m1pw2f2yssp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5s59w4a0kjecw3zyexm7zur8l8n4scw674w8sft"
    "jhwec33km882gsdpa2pshjmt9de6zqun9w96k2um5ypmkjargypkh2mr5d9cxzun5ypeh2ursdae8gxqruyqcqpjvzddp68gup69uhnzwfj9cejuv"
    "f3xshrwde68qcrswf0d46kcarfwpshyaplw3skw0tdw4k8g6tsv9e8gcz45tperrgam4d3t6hc9kaguyzx08mrqsfhfxkx5fmpufvxfvypypyjcp"
    "xzvnnzq9jwsm3htpkwkxqsp8jt95ekkzq8ck5vze4lpehqq5cdj22"
)
COFFEE_BEANS = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg"
    "3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqqsgq2a25dxl5hrntdtn6zvydt7d66hyzsyhqs4wdynavys42xgl6sgx9"
    "c4g7me86a27t07mdtfry458rtjr0v92cnmswpsjscgt2vcse3sgpz3uapa"
)
COFFEE_BEANS_IGNORED_FIELDS = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zy"
    "g3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqqsgq2qrqqqfppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqppnqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhpnqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqspnqqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnp5qqqq"
    "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnpkqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqz599y"
    "53s3ujmcfjp5xrdap68qxymkqphwsexhmhr8wdz5usdzkzrse33chw6dlp3jhuhge9ley7j2ayx36kawe7kmgg8sv5ugdyusdcqzn8z9x"
)
FEATURE_100 = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg"
    "3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q4psqqqqqqqqqqqqqqqqsgqtqyx5vggfcsll4wu246hz02kp85x4katwsk9639we5n5yngc3yh"
    "qkm35jnjw4len8vrnqnf5ejh0mzj9n3vz2px97evektfm2l6wqccp3y7372"
)
PICO_AMOUNT_HINT = (
    "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68yetpd5s9xar0wfjn5gpc"
    "8qhrsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfskx6eqf9hzqnteypzxz7fzypfhg6trddjhygrcy"
    "qezcgpzfysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxsp5zyg3zyg3zyg3zyg3"
    "zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4jyxcjwmy7stt9hwkwe2qxmy8zpsgg7jcuwz87fcqqeuq"
    "qqyqqqqlgqqqqn3qq9q9qrsgqrvgkpnmps664wgkp43l22qsgdw4ve24aca4nymnxddlnp8vh9v2sdxlu5ywdxefsfvm0fq3sesf08uf6q9a2ke0"
    "hc9j6z6wlxg5z5kqpu2v9wz"
)
METADATA = (
    "lnbc10m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdp9wpshjmt9de6zqmt9w3skgct5vysxjmnnd9jx2mq8"
    "q8a04uqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q2gqqqqqqsgq7hf8he7ecf7n4ffphs6awl9t6676rrclv9ckg"
    "3d3ncn7fct63p6s365duk5wrk202cfy3aj5xnnp5gs3vrdvruverwwq7yzhkf5a3xqpd05wjc"
)
REGTEST_SEVEN_BTC = (
    "lnbcrt71p5xyxdlsp5qz4jwtz5qarf2rl245hedz2lx6rt8l2mlzppm0hlngwmjj56w0vspp5rgnn0yma8x4pq4fmk3nptxglwn64qd9uw2txs"
    "32vc5zcq44lcptqdqqxqyjw5qcqp99qxpqysgqvrw0hwfrp63wrxxdwlezam6f2qlkpf8vgd30mecs8hh254sf9wkzyz3pjdtsxy0s4fntcau7"
    "aav8nvf8w9hyv36u5l9nudnekvdk27gp66ndw9"
)

VALID_VECTORS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "donation, any amount",
        DONATION,
        {
            "amount_msat": None,
            "description": "Please consider supporting this project",
            "expiry": 3600,
            "min_final_cltv_expiry": 18,
            "features_hex": BASE_FEATURES,
        },
    ),
    ("coffee within a minute", COFFEE, {"amount_msat": 250_000_000, "description": "1 cup coffee", "expiry": 60}),
    ("utf-8 description", NONSENSE, {"amount_msat": 250_000_000, "description": "ナンセンス 1杯", "expiry": 60}),
    ("hashed description", CAKE, {"amount_msat": 2_000_000_000, "description": None, "description_hash": CAKE_HASH}),
    (
        "testnet P2PKH fallback",
        TESTNET_P2PKH,
        {
            "network": "testnet",
            "currency": "tb",
            "fallbacks": ["mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"],
        },
    ),
    (
        "P2PKH fallback and a two-hop route hint",
        MAINNET_P2PKH_HINTS,
        {
            "fallbacks": ["1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"],
            "route_hints": (
                (
                    HintHop(
                        "029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255",
                        "66051x263430x1800",
                        1,
                        20,
                        3,
                    ),
                    HintHop(
                        "039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255",
                        "197637x395016x2314",
                        2,
                        30,
                        4,
                    ),
                ),
            ),
        },
    ),
    ("P2SH fallback", MAINNET_P2SH, {"fallbacks": ["3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX"]}),
    ("P2WPKH fallback", MAINNET_P2WPKH, {"fallbacks": ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]}),
    (
        "P2WSH fallback",
        MAINNET_P2WSH,
        {
            "fallbacks": ["bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"],
        },
    ),
    ("P2TR fallback", MAINNET_P2TR, {"fallbacks": ["bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm"]}),
    ("all upper case", UPPERCASE, {"amount_msat": 250_000_000, "expiry": 60, "features_hex": ""}),
    (
        "testnet, unknown field v",
        TESTNET_UNKNOWN_FIELD,
        {
            "network": "testnet",
            "currency": "tb",
            "created_at": 1554294928,
            "amount_msat": 3_000_000_000,
            "expiry": 28800,
            "payment_hash": "850aeaf5f69670e8889936fc2e0cff3ceb0c3b5eab8f04ae57767118db673a91",
            "description": "Payment request with multipart support",
        },
    ),
    (
        "features 8, 14 and 99",
        COFFEE_BEANS,
        {
            "amount_msat": 2_500_000_000,
            "description": "coffee beans",
            "features_hex": "08000000000000000000004100",
        },
    ),
    (
        "fields that must be ignored",
        COFFEE_BEANS_IGNORED_FIELDS,
        {
            "amount_msat": 2_500_000_000,
            "description": "coffee beans",
            "fallbacks": [],
            "payment_hash": SPEC_HASH,
            "payment_secret": SPEC_SECRET,
            "payee": SPEC_PAYEE,
        },
    ),
    (
        "pico-bitcoin amount, a week, a hint",
        PICO_AMOUNT_HINT,
        {
            "amount_msat": 967_878_534,
            "created_at": 1572468703,
            "expiry": 604800,
            "min_final_cltv_expiry": 10,
            "payment_hash": "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f",
            "route_hints": (
                (
                    HintHop(
                        "03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7",
                        "589390x3312x1",
                        1000,
                        2500,
                        40,
                    ),
                ),
            ),
        },
    ),
    (
        "payment metadata",
        METADATA,
        {
            "amount_msat": 1_000_000_000,
            "payment_metadata": "01fafaf0",
            "features_hex": "01000000004100",
        },
    ),
    (
        "regtest, 7 BTC without multiplier, empty description",
        REGTEST_SEVEN_BTC,
        {
            "network": "regtest",
            "currency": "bcrt",
            "amount_msat": 700_000_000_000,
            "description": "",
            "expiry": 604800,
            "min_final_cltv_expiry": 5,
            "created_at": 1751259583,
            "features_hex": "02024100",
            "payee": "0266e4598d1d3c415f572a8488830b60f7e744ed9235eb0b1ba93283b315c03518",
            "payment_hash": "1a2737937d39aa10553bb46615991f74f55034bc729668454cc5058056bfc056",
            "payment_secret": "00ab272c540746950feaad2f96895f3686b3fd5bf8821dbeff9a1db94a9a73d9",
        },
    ),
]

BAD_CHECKSUM = (
    "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpu"
    "yk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrnt"
)
INVALID_VECTORS: list[tuple[str, str, str]] = [
    ("bad checksum", BAD_CHECKSUM, "bad checksum"),
    (
        "no '1' separator",
        "pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70m"
        "e25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
        "should start with lnbc",
    ),
    (
        "mixed case",
        "LNBC2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpu"
        "yk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
        "mixes upper and lower case",
    ),
    (
        "signature not recoverable",
        "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg"
        "3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqwgt7mcn5yqw3yx0w94pswkpq6j9uh6xfqqqtsk4tnarugeektd4hg5975x9"
        "am52rz4qskukxdmjemg92vvqz8nvmsye63r5ykel43pgz7zq0g2",
        "signature",
    ),
    (
        "too short",
        "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6na6h"
        "lh",
        "too short",
    ),
    (
        "invalid multiplier",
        "lnbc2500x1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg"
        "3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqrrzc4cvfue4zp3hggxp47ag7xnrlr8vgcmkjxk3j5jqethnumgkpqp23z9j"
        "clu3v0a7e0aruz366e9wqdykw6dxhdzcjjhldxq0w6wgqcnu43j",
        "2500x",
    ),
    (
        "sub-millisatoshi amount",
        "lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5z"
        "yg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgq0lzc236j96a95uv0m3umg28gclm5lqxtqqwk32uuk4k6673k6n5kf"
        "vx3d2h8s295fad45fdhmusm8sjudfhlf6dcsxmfvkeywmjdkxcp99202x",
        "finer than a millisatoshi",
    ),
    (
        "bad UTF-8 0xC0",
        "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5gfskggz423rz6wp6yrqqcqpjkkrsmq07c4ht7qgjdm"
        "f2a8savsafcy8lqn4av4gs80gz88ff2y780tdcve7sxp80kd4vk7hajt5mskcsegz2qfll4jywfwhap2q2n6cqyz5tv4",
        "UTF-8",
    ),
    (
        "bad UTF-8 0xF0A0A020",
        "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdqcgfskggz423rz6wp6yrc2pgpqcqpjmyveg8ccprmlss"
        "yae9l33an2m0qz3qcfcavt7wdzrdqyx5q7hqmp7ne08uvwlwaaqwt4lxgmjh5gce3hv0m8tzwkzfshpdv9d5p9pcsp5v86r0",
        "UTF-8",
    ),
    (
        "invalid route hint pubkey",
        "lnbc1qqygh9qpp50qzxqqqqqpqqrzjcqqqqqqqqqqqqqqqqqqqqqqqqqqcqpjqqqqqqrzjcqqqqqcqpjqqqqqqqqqqqqqqqqqqqqqqqqqcq9qqq"
        "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqlqqqqqqqqqqqqqqqq"
        "qqqqqqqqqqqqqqlqqqqqqqqqqqqqqqqqqqqqqq4murj7",
        "route hint",
    ),
]
MISSING_PAYMENT_SECRET = (
    "lnbc20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98k"
    "lysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7"
    "x39ymw6j38gp49qdkj"
)
MALFORMED_NO_SEPARATOR = (
    "lnbc20mpvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98kl"
    "ysy043l2ahrqscc6gd6ql3jrc5yzme8v4ntcewwz5cnw92tz0pc8qcuufvq7khhr8wpald05e92xw006sq94mg8v2ndf4sefvf9sygkshp5zfem"
    "29trqq2yxxz7"
)


@pytest.mark.parametrize(("title", "text", "expected"), VALID_VECTORS, ids=[v[0] for v in VALID_VECTORS])
def test_spec_vectors_decode_to_their_fields(title: str, text: str, expected: dict[str, Any]) -> None:
    invoice = decode_invoice(text)
    defaults: dict[str, Any] = {
        "network": "bitcoin",
        "currency": "bc",
        "payee": SPEC_PAYEE,
        "payment_hash": SPEC_HASH,
        "payment_secret": SPEC_SECRET,
        "created_at": SPEC_TIME,
    }
    for name, value in {**defaults, **expected}.items():
        if name == "fallbacks":
            assert [fallback.address for fallback in invoice.fallbacks] == value, title
        else:
            assert getattr(invoice, name) == value, f"{title}: {name}"
    assert invoice.bolt11 == text.lower()
    amount_text = None if invoice.amount_msat else "1sat"
    check = check_invoice(invoice, network=invoice.network, amount_text=amount_text, now=invoice.created_at)
    assert check.ok and check.problems == (), check.problems


@pytest.mark.parametrize(("title", "text"), [v[:2] for v in VALID_VECTORS], ids=[v[0] for v in VALID_VECTORS])
def test_spec_vectors_agree_with_the_simulators_decoder(title: str, text: str) -> None:
    """A second, independent reading: the simulator's decoder, written after lightningd's bolt11.c."""
    reference = decode_bolt11(text.lower()).to_json()
    invoice = decode_invoice(text)
    assert cross_check(invoice, reference) == [], title
    assert invoice.features_hex == reference["features"]
    assert invoice.description == reference.get("description")
    assert invoice.description_hash == reference.get("description_hash")
    assert invoice.payment_metadata == reference.get("payment_metadata")
    assert [f.address for f in invoice.fallbacks] == [f.get("addr") for f in reference.get("fallbacks", [])]
    assert [[vars(hop) for hop in hint] for hint in invoice.route_hints] == [
        [
            {
                "node_id": hop["pubkey"],
                "short_channel_id": hop["short_channel_id"],
                "fee_base_msat": hop["fee_base_msat"],
                "fee_proportional_millionths": hop["fee_proportional_millionths"],
                "cltv_expiry_delta": hop["cltv_expiry_delta"],
            }
            for hop in hint
        ]
        for hint in reference.get("routes", [])
    ]


@pytest.mark.parametrize(("title", "text", "reason"), INVALID_VECTORS, ids=[v[0] for v in INVALID_VECTORS])
def test_spec_invalid_vectors_are_refused_with_a_reason(title: str, text: str, reason: str) -> None:
    with pytest.raises(InvoiceError) as caught:
        decode_invoice(text)
    assert reason in caught.value.reason, title


def test_spec_invoice_requiring_unknown_feature_100_is_refused() -> None:
    invoice = decode_invoice(FEATURE_100)
    assert [feature.bit for feature in invoice.features] == [8, 14, 99, 100]
    assert invoice.unknown_required_features == (100,)
    check = check_invoice(invoice, network="bitcoin", now=invoice.created_at)
    assert not check.ok
    assert any("feature bit 100" in problem for problem in check.problems)


def test_spec_invoice_missing_payment_secret_is_refused() -> None:
    """BOLT 11's "Missing required s field" vector: a reader must fail it."""
    invoice = decode_invoice(MISSING_PAYMENT_SECRET)
    assert invoice.payment_secret is None
    assert not invoice.supports_mpp
    check = check_invoice(invoice, network="bitcoin", now=invoice.created_at)
    assert any("payment_secret" in problem for problem in check.problems)


def test_every_truncation_of_a_malformed_invoice_is_refused() -> None:
    """As run-bolt11.c: every prefix of an invoice without a separator fails, none crashes."""
    for end in range(len(MALFORMED_NO_SEPARATOR) + 1):
        with pytest.raises(InvoiceError):
            decode_invoice(MALFORMED_NO_SEPARATOR[:end])


def test_route_hints_the_library_misreads() -> None:
    """bolt11 2.2 reads hint fees as signed numbers and drops the fifth hop of a five-hop hint."""
    hops = [
        {
            "pubkey": PrivateKey(bytes([i]) * 32).public_key.format().hex(),
            "short_channel_id": f"{700_000 + i}x{i}x{i}",
            "fee_base_msat": 2**31 + i,
            "fee_proportional_millionths": 4_000_000_000,
            "cltv_expiry_delta": 65_000,
        }
        for i in range(1, 6)
    ]
    text = sign_bolt11(
        currency="bcrt",
        secret_key=bytes.fromhex("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"),
        payment_hash=SPEC_HASH,
        payment_secret=SPEC_SECRET,
        amount_msat=1000,
        description="five hops",
        created_at=SPEC_TIME,
        expiry=3600,
        min_final_cltv_expiry=10,
        route_hints=[hops],
    )
    invoice = decode_invoice(text)
    assert invoice.payee == SPEC_PAYEE
    assert invoice.route_hints == (
        tuple(
            HintHop(
                hop["pubkey"],
                hop["short_channel_id"],
                hop["fee_base_msat"],
                hop["fee_proportional_millionths"],
                hop["cltv_expiry_delta"],
            )
            for hop in hops
        ),
    )
    assert invoice.route_hints[0][0].fee_for(1_000_000) == 2**31 + 1 + 4_000_000_000


def test_spec_features_are_named() -> None:
    invoice = decode_invoice(METADATA)
    assert [(f.bit, f.name, f.required) for f in invoice.features] == [
        (8, "var_onion_optin", True),
        (14, "payment_secret", True),
        (48, "option_payment_metadata", True),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Invoices from the simulated node


def _sim_invoice(sim: RunningSim, node: str = "C", **params: Any) -> dict[str, Any]:
    return sim.rpc.call("dev-sim-invoice", {"node": node, "description": "engine test", **params})


def _recode(text: str, mutate: Callable[[list[int]], list[int]], hrp: str | None = None) -> str:
    """The invoice with its 5-bit data changed by ``mutate`` and a fresh (valid) checksum."""
    old_hrp, data = bech32_decode(text)
    assert old_hrp is not None and data is not None
    return bech32_encode(hrp or old_hrp, mutate(list(data)))


def test_sim_invoice_decodes_like_the_node(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, amount_msat=12_345_678, description="a book")
    invoice = decode_invoice(created["bolt11"])
    node_answer = PylnNode(regtest.socket_path).decode(created["bolt11"])
    assert cross_check(invoice, node_answer) == []
    assert invoice.network == "regtest"
    assert invoice.payee == regtest.alias("C") == created["payee"]
    assert invoice.amount_msat == 12_345_678
    assert invoice.description == "a book"
    assert invoice.payment_hash == created["payment_hash"]
    assert invoice.payment_secret == created["payment_secret"]
    assert invoice.expires_at == created["expires_at"]
    assert invoice.min_final_cltv_expiry == node_answer["min_final_cltv_expiry"] == 10
    assert invoice.features_hex == node_answer["features"] == "02024100"
    assert {f.name for f in invoice.features} >= {"var_onion_optin", "payment_secret", "basic_mpp"}
    assert invoice.supports_mpp
    assert [[vars(hop) for hop in hint] for hint in invoice.route_hints] == [
        [
            {
                "node_id": hop["pubkey"],
                "short_channel_id": hop["short_channel_id"],
                "fee_base_msat": hop["fee_base_msat"],
                "fee_proportional_millionths": hop["fee_proportional_millionths"],
                "cltv_expiry_delta": hop["cltv_expiry_delta"],
            }
            for hop in hint
        ]
        for hint in node_answer["routes"]
    ]


def test_load_invoice_with_amount_is_ready_to_pay(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, amount_msat=5_000_000)
    payable = load_invoice(PylnNode(regtest.socket_path), created["bolt11"])
    assert payable.ok, payable.problems
    assert payable.amount_msat == 5_000_000
    assert payable.problems == () and payable.warnings == ()
    assert payable.decoded_by == "console" and payable.node_decode is not None
    assert payable.node_network == "regtest" and payable.node_id == regtest.alias("A")
    assert payable.invoice.time_left(payable.checked_at) > 0


@pytest.mark.parametrize(
    ("typed", "msat"),
    [("1000", 1000), ("1000msat", 1000), ("10sat", 10_000), ("10.000sat", 10_000), ("0.0001btc", 10_000_000)],
)
def test_invoice_without_amount_takes_any_cln_amount_format(regtest: RunningSim, typed: str, msat: int) -> None:
    created = _sim_invoice(regtest)
    node = PylnNode(regtest.socket_path)
    refused = load_invoice(node, created["bolt11"])
    assert refused.invoice.amount_msat is None
    assert refused.amount_msat is None and not refused.ok
    assert any("no amount" in problem and "10sat" in problem for problem in refused.problems)
    payable = load_invoice(node, created["bolt11"], typed)
    assert payable.ok, payable.problems
    assert payable.amount_msat == msat


@pytest.mark.parametrize("typed", ["ten sats", "-5sat", "0", "0.00000000001btc1", "12.5msat"])
def test_bad_amounts_are_problems_not_exceptions(regtest: RunningSim, typed: str) -> None:
    created = _sim_invoice(regtest)
    payable = load_invoice(PylnNode(regtest.socket_path), created["bolt11"], typed)
    assert not payable.ok and payable.amount_msat is None
    assert payable.problems and all(problem for problem in payable.problems)


def test_given_amount_against_the_invoice_amount(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, amount_msat=10_000_000)
    node = PylnNode(regtest.socket_path)
    below = load_invoice(node, created["bolt11"], "9999sat")
    assert not below.ok and any("less than the invoice's 10000sat" in problem for problem in below.problems)
    same = load_invoice(node, created["bolt11"], "10000sat")
    assert same.ok and same.warnings == ()
    a_bit_more = load_invoice(node, created["bolt11"], "10001sat")
    assert a_bit_more.ok and a_bit_more.amount_msat == 10_001_000
    assert any("1sat more" in warning for warning in a_bit_more.warnings)
    triple = load_invoice(node, created["bolt11"], "30000sat")
    assert triple.ok and triple.amount_msat == 30_000_000
    assert any("more than twice" in warning for warning in triple.warnings)


def test_expired_and_expiring_invoices_are_refused(regtest: RunningSim) -> None:
    node = PylnNode(regtest.socket_path)
    short = _sim_invoice(regtest, amount_msat=1000, expiry=1)
    created_at = decode_invoice(short["bolt11"]).created_at
    expired = load_invoice(node, short["bolt11"], now=created_at + 120)
    assert not expired.ok
    assert expired.invoice.is_expired(created_at + 120) and expired.time_left == -119
    assert any("expired 119s ago" in problem for problem in expired.problems)

    hour = _sim_invoice(regtest, amount_msat=1000, expiry=3600)
    created_at = decode_invoice(hour["bolt11"]).created_at
    fine = load_invoice(node, hour["bolt11"], now=created_at + 60, min_seconds_left=600)
    assert fine.ok
    late = load_invoice(node, hour["bolt11"], now=created_at + 3300, min_seconds_left=600)
    assert not late.ok and not late.invoice.is_expired(created_at + 3300)
    assert any("expires in 5 min, before the payment could settle" in problem for problem in late.problems)


def test_expiry_zero_the_library_cannot_read_falls_back_to_the_node(regtest: RunningSim) -> None:
    """bolt11 2.2 fails on a zero-length x field: the node's decode is used, and the invoice is still refused."""
    created = _sim_invoice(regtest, amount_msat=1000, expiry=0)
    with pytest.raises(InvoiceError) as caught:
        decode_invoice(created["bolt11"])
    assert caught.value.unsupported
    payable = load_invoice(PylnNode(regtest.socket_path), created["bolt11"], now=created["expires_at"] + 5)
    assert payable.decoded_by == "node"
    assert payable.invoice.expiry == 0 and payable.invoice.payment_hash == created["payment_hash"]
    assert any("showing the node's decode" in warning for warning in payable.warnings)
    assert any("expired" in problem for problem in payable.problems)


def test_mainnet_invoice_on_a_regtest_node_is_refused(regtest: RunningSim) -> None:
    payable = load_invoice(PylnNode(regtest.socket_path), COFFEE, now=SPEC_TIME)
    assert not payable.ok
    assert any("bitcoin invoice (lnbc...), but the node runs on regtest" in problem for problem in payable.problems)


def test_corrupted_checksum_is_not_an_invoice(regtest: RunningSim) -> None:
    text = _sim_invoice(regtest, amount_msat=1000)["bolt11"]
    corrupted = text[:-10] + ("q" if text[-10] != "q" else "p") + text[-9:]
    with pytest.raises(InvoiceError, match="bad checksum"):
        load_invoice(PylnNode(regtest.socket_path), corrupted)


def _signed_with_payee_field(description: str) -> str:
    """A regtest invoice carrying its payee in an ``n`` field (signed with BOLT 11's example key)."""
    tags = bolt11.Tags()
    tags.add(bolt11.TagChar.payment_secret, SPEC_SECRET)
    tags.add(bolt11.TagChar.payment_hash, SPEC_HASH)
    tags.add(bolt11.TagChar.description, description)
    tags.add(bolt11.TagChar.payee, SPEC_PAYEE)
    invoice = bolt11.Bolt11(currency="bcrt", date=SPEC_TIME, tags=tags, amount_msat=bolt11.MilliSatoshi(1000))
    return bolt11.encode(invoice, "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734", keep_payee=True)


def test_tampered_signature_is_refused() -> None:
    text = _signed_with_payee_field("tamper with me")
    assert decode_invoice(text).payee == SPEC_PAYEE

    def flip_signature_bit(data: list[int]) -> list[int]:
        data[-50] ^= 1
        return data

    with pytest.raises(InvoiceError, match="signature does not match the payee"):
        decode_invoice(_recode(text, flip_signature_bit))
    # A changed field (the amount in the hrp) no longer matches the signature either.
    with pytest.raises(InvoiceError, match="signature does not match the payee"):
        decode_invoice(_recode(text, lambda data: data, hrp="lnbcrt20n"))


def test_tampered_signature_without_payee_field_names_another_payee(regtest: RunningSim) -> None:
    """Without ``n`` the payee is recovered from the signature: a tampered one recovers nobody, or a stranger
    the node's gossip does not know (and load_invoice says so)."""
    created = _sim_invoice(regtest, amount_msat=1000)

    def flip_recovery_id(data: list[int]) -> list[int]:
        data[-1] ^= 1  # the low bit of the recovery id (the last 5-bit word holds its low 4 bits)
        return data

    tampered = _recode(created["bolt11"], flip_recovery_id)
    try:
        invoice = decode_invoice(tampered)
    except InvoiceError as error:
        assert "signature" in error.reason
    else:
        assert invoice.payee != created["payee"]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   \n",
        "hello",
        "lnbc1notaninvoice",
        "lightning:",
        "bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "lno1qgsqvgnwgcg35z6ee2h3yczraddm72xrfua9uve2rlrm9deu7xyfzrc",
        "lnbc",
        "ln1",
        "lnxy1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
        "1111111",
        "\x00\x01",
        "lnbc1" + "q" * 120,
    ],
)
def test_garbage_is_refused_with_a_reason(regtest: RunningSim, garbage: str) -> None:
    with pytest.raises(InvoiceError) as caught:
        load_invoice(PylnNode(regtest.socket_path), garbage)
    assert caught.value.reason and "Traceback" not in caught.value.reason


def test_pasted_forms_decode_to_the_same_invoice(regtest: RunningSim) -> None:
    text = _sim_invoice(regtest, amount_msat=2000)["bolt11"]
    wrapped = "\n".join(text[i : i + 60] for i in range(0, len(text), 60))
    forms = [
        f"lightning:{text}",
        f"LIGHTNING:{text.upper()}",
        f"  {text}\n",
        f"\t{wrapped}\r\n",
        text.upper(),
        f"lightning://{text}",
    ]
    expected = decode_invoice(text)
    node = PylnNode(regtest.socket_path)
    for form in forms:
        assert clean_invoice_text(form) == text
        assert decode_invoice(form) == expected
        assert load_invoice(node, form).ok


class _DecodepayOnlyNode(PylnNode):
    """An older lightningd than the legacy simulator: ``decode`` unknown, only ``decodepay``."""

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        if method == "decode":
            raise NodeError(method, METHOD_NOT_FOUND, "Unknown command 'decode'")
        return super().call(method, params)


def test_legacy_node_cross_checks_with_decodepay(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", generation="legacy")
    created = _sim_invoice(sim, amount_msat=7000)
    node = _DecodepayOnlyNode(sim.socket_path)
    payable = load_invoice(node, created["bolt11"])
    assert node.capabilities.decode is False  # decode answered -32601, decodepay answered
    assert payable.node_decode is not None and "payment_hash" in payable.node_decode
    assert payable.ok, payable.problems
    assert payable.amount_msat == 7000 and payable.warnings == ()
    assert load_invoice(PylnNode(sim.socket_path), created["bolt11"]).ok


class _NoDecodeNode(PylnNode):
    """A node that answers neither decode nor decodepay (or fails to decode with ``code``)."""

    def __init__(self, socket_path: object, code: int = METHOD_NOT_FOUND, message: str = "Unknown command") -> None:
        super().__init__(str(socket_path))
        self.code, self.message = code, message

    def decode(self, bolt11: str) -> dict[str, Any]:
        raise NodeError("decodepay", self.code, self.message)


def test_node_without_decode_keeps_the_local_decode(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, amount_msat=3000)
    payable = load_invoice(_NoDecodeNode(regtest.socket_path), created["bolt11"])
    assert payable.ok and payable.node_decode is None and payable.amount_msat == 3000
    assert payable.warnings == ("the node has neither decode nor decodepay: the invoice was not checked by the node",)
    refusing = _NoDecodeNode(regtest.socket_path, -32602, "string: Bad bech32 string")
    noted = load_invoice(refusing, created["bolt11"])
    assert noted.ok and noted.warnings == ("the node could not decode it: string: Bad bech32 string",)


def test_node_disagreeing_is_a_problem(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, amount_msat=3000)
    invoice = decode_invoice(created["bolt11"])
    answer = PylnNode(regtest.socket_path).decode(created["bolt11"])
    legacy = {**answer, "amount_msat": "3000msat"}
    assert cross_check(invoice, legacy) == []
    older = {key: value for key, value in answer.items() if key != "amount_msat"} | {"msatoshi": 3000}
    assert cross_check(invoice, older) == []
    wrong = {**answer, "amount_msat": 4000, "payment_hash": "00" * 32, "valid": False}
    disagreements = cross_check(invoice, wrong)
    assert "the node says the invoice is not valid" in disagreements
    assert any(item.startswith("amount_msat: the console reads 3000, the node says 4000") for item in disagreements)
    assert any(item.startswith("payment_hash:") for item in disagreements)


def test_own_invoice_is_refused(regtest: RunningSim) -> None:
    created = _sim_invoice(regtest, node="A", amount_msat=1000)
    payable = load_invoice(PylnNode(regtest.socket_path), created["bolt11"])
    assert any("issued by this node itself" in problem for problem in payable.problems)


def test_payee_unknown_to_gossip_is_warned_about(regtest: RunningSim) -> None:
    text = _signed_with_payee_field("from a stranger")
    payable = load_invoice(PylnNode(regtest.socket_path), text, now=SPEC_TIME)
    assert payable.ok
    assert any("not in the node's gossip and the invoice has no route hints" in w for w in payable.warnings)


# ---------------------------------------------------------------------------------------------------------------
# Fuzzing: whatever is pasted, the answer is an Invoice or an InvoiceError


VALID_FOR_FUZZ = [MAINNET_P2PKH_HINTS, PICO_AMOUNT_HINT, METADATA, TESTNET_UNKNOWN_FIELD, COFFEE, REGTEST_SEVEN_BTC]
_ALPHABET = CHARSET + "1lnbcrtLNBC :\n-_0x"


def _judge(text: str) -> None:
    try:
        invoice = decode_invoice(text)
    except InvoiceError as error:
        assert error.reason
        return
    assert isinstance(invoice, Invoice)
    check = check_invoice(invoice, network="regtest", amount_text="1sat", now=invoice.created_at)
    assert all(isinstance(problem, str) and problem for problem in check.problems)


@settings(
    max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    base=st.sampled_from(VALID_FOR_FUZZ),
    edits=st.lists(
        st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 10_000), st.sampled_from(_ALPHABET)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_text_never_raises_anything_but_invoice_error(base: str, edits: list[tuple[str, int, str]]) -> None:
    text = base
    for kind, position, char in edits:
        position %= len(text) + 1
        if kind == "replace" and position < len(text):
            text = text[:position] + char + text[position + 1 :]
        elif kind == "insert":
            text = text[:position] + char + text[position:]
        elif position < len(text):
            text = text[:position] + text[position + 1 :]
    _judge(text)


@settings(
    max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    base=st.sampled_from(VALID_FOR_FUZZ),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 31)), min_size=1, max_size=6),
    cut=st.integers(0, 200),
    hrp=st.sampled_from([None, "lnbc", "lnbcrt", "lntbs", "lnbc1000p", "lnbc0", "lnbc99999999999999999999"]),
)
def test_mutated_data_with_a_valid_checksum_never_raises_anything_but_invoice_error(
    base: str, edits: list[tuple[int, int]], cut: int, hrp: str | None
) -> None:
    """Past the checksum: field lengths, tags, signatures and amounts all garbled, the decoder still answers."""

    def mutate(data: list[int]) -> list[int]:
        for position, word in edits:
            data[position % len(data)] = word
        return data[: max(len(data) - cut, 0)] if cut % 3 == 0 else data

    _judge(_recode(base, mutate, hrp=hrp))


@settings(
    max_examples=300, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    base=st.sampled_from(VALID_FOR_FUZZ),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 31)), min_size=1, max_size=3),
)
def test_what_lightningd_accepts_the_console_reads_the_same(base: str, edits: list[tuple[int, int]]) -> None:
    """Differential: garble the tagged fields (signature kept, checksum fixed); whenever the simulator's
    bolt11.c-faithful decoder accepts the result, the console reads the same fields (or says it can't)."""

    def mutate(data: list[int]) -> list[int]:
        for position, word in edits:
            data[position % (len(data) - 104)] = word
        return data

    text = _recode(base, mutate)
    try:
        reference = decode_bolt11(text, our_features=None).to_json()
    except ValueError:
        return
    try:
        invoice = decode_invoice(text)
    except InvoiceError as error:
        assert error.unsupported, error.reason
        return
    assert cross_check(invoice, reference) == []
    assert invoice.features_hex == reference["features"]
    assert invoice.payment_metadata == reference.get("payment_metadata")
    assert len(invoice.route_hints) == len(reference.get("routes", []))


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(amount=st.text(max_size=30))
def test_any_amount_text_gets_an_amount_or_a_problem(amount: str) -> None:
    invoice = decode_invoice(DONATION)
    check = check_invoice(invoice, network="bitcoin", amount_text=amount, now=invoice.created_at)
    assert (check.amount_msat is not None) or check.problems
    if check.amount_msat is not None:
        assert check.amount_msat > 0


def test_description_hash_matches_the_spec() -> None:
    text = (
        "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, "
        "one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon"
    )
    assert decode_invoice(CAKE).description_hash == hashlib.sha256(text.encode()).hexdigest()
