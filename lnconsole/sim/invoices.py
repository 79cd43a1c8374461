"""Invoices held by the simulated nodes: real BOLT11 strings, signed by the payee's key.

Every node of the network can issue invoices (``invoice`` for our node, ``dev-sim-invoice`` for any node), and
the payee side of a payment checks incoming HTLCs against them. Invoices are signed with the ``bolt11``
library so that real lightningd, and any BOLT11 decoder, accepts them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import bolt11
from bolt11.models.features import Feature, Features, FeatureState
from bolt11.models.routehint import Route as HintHop
from bolt11.models.routehint import RouteHint
from bolt11.models.tags import TagChar, Tags

if TYPE_CHECKING:
    from .node import SimNode

CURRENCY_BY_NETWORK = {"regtest": "bcrt", "bitcoin": "bc", "testnet": "tb", "signet": "tbs"}
DEFAULT_EXPIRY = 604800
"""lightningd's default invoice expiry: one week."""
MIN_FINAL_CLTV_EXPIRY = 10
"""What lightningd puts in invoices on regtest (the transcripts show 10)."""

# The invoice features lightningd sets (decode shows "02024100"): var_onion_optin, payment_secret (both
# required), basic_mpp optional, and option_route_blinding-era bit 25 optional is not in bolt11's table, so the
# three the library knows are enough for payers to see payment_secret and basic_mpp.
INVOICE_FEATURES = {
    Feature.var_onion_optin: FeatureState.required,
    Feature.payment_secret: FeatureState.required,
    Feature.basic_mpp: FeatureState.supported,
}


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

    def is_expired(self, now: int) -> bool:
        return self.status == "unpaid" and now >= self.expires_at

    def current_status(self, now: int) -> str:
        return "expired" if self.is_expired(now) else self.status


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
) -> str:
    """Encode and sign a BOLT11 invoice."""
    tags = Tags()
    tags.add(TagChar.payment_secret, payment_secret)
    tags.add(TagChar.payment_hash, payment_hash)
    tags.add(TagChar.description, description)
    tags.add(TagChar.expire_time, expiry)
    tags.add(TagChar.min_final_cltv_expiry, min_final_cltv_expiry)
    for hint in route_hints or []:
        tags.add(
            TagChar.route_hint,
            RouteHint(
                [
                    HintHop(
                        public_key=str(hop["pubkey"]),
                        short_channel_id=str(hop["short_channel_id"]),
                        base_fee=int(hop["fee_base_msat"]),  # type: ignore[call-overload]
                        ppm_fee=int(hop["fee_proportional_millionths"]),  # type: ignore[call-overload]
                        cltv_expiry_delta=int(hop["cltv_expiry_delta"]),  # type: ignore[call-overload]
                    )
                    for hop in hint
                ]
            ),
        )
    tags.add(TagChar.features, Features.from_feature_list(INVOICE_FEATURES))
    invoice = bolt11.Bolt11(
        currency=currency,
        date=created_at,
        tags=tags,
        amount_msat=bolt11.MilliSatoshi(amount_msat) if amount_msat else None,
    )
    return bolt11.encode(invoice, secret_key.hex())


class InvoiceBook:
    """Every node's invoices, by (payee, payment_hash) and by (payee, label)."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self.by_hash: dict[tuple[str, str], SimInvoice] = {}
        self.by_label: dict[tuple[str, str], SimInvoice] = {}
        self._next_index: dict[str, int] = {}

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
    ) -> SimInvoice:
        """Issue and remember a signed invoice of ``payee`` (a node id of the network)."""
        node = self.node.network.nodes[payee]
        preimage_bytes = bytes.fromhex(preimage) if preimage else os.urandom(32)
        payment_hash = hashlib.sha256(preimage_bytes).hexdigest()
        payment_secret = os.urandom(32).hex()
        created_at = self.node.now()
        index = self._next_index.get(payee, 0) + 1
        self._next_index[payee] = index
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
        )
        self.by_hash[(payee, payment_hash)] = invoice
        self.by_label[(payee, invoice.label)] = invoice
        return invoice

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
