"""Our invoices are written as lightningd writes them: the same fields in the same order, to the byte."""

from __future__ import annotations

import json
import os

import bolt11
import pytest

from lnconsole.sim.invoices import decode_bolt11, sign_bolt11
from tests.conftest import SHARED

SIGNATURE_AND_CHECKSUM = 104 + 6
"""bech32 characters after the data part: a 65-byte recoverable signature (104 chars) and the checksum."""


def recorded_invoices() -> list[str]:
    """Every bolt11 that real lightningd created in the transcripts."""
    found: list[str] = []
    for path in sorted((SHARED / "cln" / "transcripts").glob("*.json")):
        for call in json.loads(path.read_text()).get("calls", []):
            result = call["response"].get("result", {})
            if call["request"]["method"] == "invoice" and "bolt11" in result:
                found.append(result["bolt11"])
    return found


@pytest.mark.parametrize("recorded", recorded_invoices())
def test_reencoding_lightningds_invoice_gives_the_same_bytes_but_the_signature(recorded: str) -> None:
    decoded = decode_bolt11(recorded)
    secret_key = os.urandom(32)
    ours = sign_bolt11(
        currency=decoded.currency,
        secret_key=secret_key,
        payment_hash=decoded.payment_hash,
        payment_secret=decoded.payment_secret or "",
        amount_msat=decoded.amount_msat,
        description=decoded.description or "",
        created_at=decoded.created_at,
        expiry=decoded.expiry,
        min_final_cltv_expiry=decoded.min_final_cltv_expiry,
        route_hints=decoded.routes,
        features=decoded.features,
    )
    assert ours[:-SIGNATURE_AND_CHECKSUM] == recorded[:-SIGNATURE_AND_CHECKSUM]
    # And the bolt11 library, an independent reader, accepts our signature and recovers our key as payee.
    assert bolt11.decode(ours).payee == decode_bolt11(ours).payee != decoded.payee
