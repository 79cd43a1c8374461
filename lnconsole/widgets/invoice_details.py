"""A checked invoice laid out for the person about to pay it: who, how much, for what, until when, and how.

The widget only renders what it is given (a :class:`~lnconsole.invoice.PayableInvoice`, the aliases the screen
looked up, the current time); it never calls the node. The expiry line is a countdown the screen ticks every
second with :meth:`InvoiceDetails.tick`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rich.text import Text
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

from ..amounts import btc_text, format_sat
from ..invoice import Invoice, PayableInvoice

ROWS: tuple[tuple[str, str], ...] = (
    ("payee", "Payee"),
    ("amount", "Amount"),
    ("description", "Description"),
    ("expiry", "Expires"),
    ("cltv", "Final CLTV"),
    ("hash", "Payment hash"),
    ("secret", "Payment secret"),
    ("features", "Features"),
    ("hints", "Route hints"),
    ("fallbacks", "Fallbacks"),
    ("network", "Network"),
    ("decoder", "Decoded by"),
)
"""(id suffix, label) of each line, in the order a payer reads them."""


def short_hex(value: str, keep: int = 8) -> str:
    """``abcd1234…9876fedc``: enough to recognise a long hex value, short enough for one line."""
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-keep:]}"


def countdown(seconds: int) -> str:
    """A duration as a payer reads it at a glance: ``2 d 03 h``, ``1 h 05 min``, ``4 min 09 s``, ``12 s``."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def utc_text(timestamp: int) -> str:
    """A timestamp in UTC (the node's and the payee's clocks agree on UTC, not on a time zone)."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"timestamp {timestamp}"


def expiry_text(invoice: Invoice, now: int) -> tuple[str, bool]:
    """The countdown line, and whether the invoice has expired (lightningd's rule: ``now`` past expiry)."""
    left = invoice.time_left(now)
    at = utc_text(invoice.expires_at)
    if invoice.is_expired(now):
        return f"expired {countdown(left)} ago ({at})", True
    if left == 0:
        return f"expires now ({at})", False
    return f"in {countdown(left)} ({at}; valid {countdown(invoice.expiry)} from creation)", False


class InvoiceDetails(Widget):
    """The decoded invoice, one labelled line per field a payer cares about."""

    DEFAULT_CSS = """
    InvoiceDetails {
        height: auto;
        padding: 0 1;
    }
    InvoiceDetails > Horizontal {
        height: auto;
    }
    InvoiceDetails .detail-label {
        width: 16;
        color: $text-muted;
    }
    InvoiceDetails .detail-value {
        width: 1fr;
        height: auto;
    }
    InvoiceDetails #detail-payee {
        text-style: bold;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.payable: PayableInvoice | None = None
        """What is shown (None: nothing yet)."""
        self._rows: dict[str, tuple[Horizontal, Static]] = {}
        """Row key -> (row, value cell), made with the first invoice shown (see :meth:`_ensure_rows`)."""

    def _ensure_rows(self) -> None:
        """The rows are made with the first invoice shown, not with the screen: the console's first screen,
        with nothing to show yet, draws sooner without three dozen hidden widgets to style (issue 5, start-up)."""
        if self._rows:
            return
        for key, label in ROWS:
            value = Static(id=f"detail-{key}", classes="detail-value")
            self._rows[key] = (Horizontal(Label(label, classes="detail-label"), value, id=f"row-{key}"), value)
        self.mount(*(row for row, _ in self._rows.values()))

    def value(self, key: str) -> Static:
        """The value cell of row ``key`` (one of :data:`ROWS`' keys)."""
        self._ensure_rows()
        return self._rows[key][1]

    def text_of(self, key: str) -> str:
        """The plain text shown in row ``key`` (for tests and screenshots' captions)."""
        return str(self.value(key).render())

    def _row(self, key: str, content: str | Text, *, visible: bool = True) -> None:
        """Fill a row; plain strings stay plain (descriptions are the payee's text, never markup)."""
        self.value(key).update(Text(content) if isinstance(content, str) else content)
        self._rows[key][0].display = visible

    def show(self, payable: PayableInvoice, aliases: Mapping[str, str], now: int) -> None:
        """Lay out ``payable``; ``aliases`` maps node ids to their gossiped alias (payee and hint nodes)."""
        self.payable = payable
        invoice = payable.invoice
        alias = aliases.get(invoice.payee)
        payee = Text.assemble(
            (alias or "(not in the node's gossip)", "bold" if alias else "italic"), "  ", (invoice.payee, "dim")
        )
        self._row("payee", payee)
        self._row("amount", self._amount(payable))
        if invoice.description is not None:
            self._row("description", invoice.description or "(empty)")
        elif invoice.description_hash is not None:
            self._row("description", f"hash {invoice.description_hash} (the payee gave the text separately)")
        else:
            self._row("description", "(none)")
        self.tick(now)
        self._row("cltv", f"{invoice.min_final_cltv_expiry} blocks (min_final_cltv_expiry)")
        self._row("hash", invoice.payment_hash)
        if invoice.payment_secret:
            self._row("secret", f"{short_hex(invoice.payment_secret)}  (s copies it in full)")
        else:
            self._row("secret", "none")
        self._row("features", self._features(invoice))
        self._row("hints", self._hints(invoice, aliases))
        fallbacks = [
            fallback.address or f"version {fallback.version}: {fallback.program}" for fallback in invoice.fallbacks
        ]
        self._row("fallbacks", "\n".join(fallbacks), visible=bool(fallbacks))
        self._row("network", self._network(payable))
        self._row("decoder", self._decoder(payable))

    def tick(self, now: int) -> bool:
        """Refresh the countdown; True once the invoice has expired."""
        if self.payable is None:
            return False
        text, expired = expiry_text(self.payable.invoice, now)
        expiry = self.value("expiry")
        expiry.update(Text(text))
        expiry.set_class(expired, "problem")
        return expired

    def clear(self) -> None:
        self.payable = None
        if not self._rows:
            return
        for key, _ in ROWS:
            self._row(key, "")

    @staticmethod
    def _amount(payable: PayableInvoice) -> Text:
        invoice_amount = payable.invoice.amount_msat
        if invoice_amount is not None:
            return Text.assemble(
                (format_sat(invoice_amount), "bold"), f"  ({invoice_amount:,} msat · {btc_text(invoice_amount)})"
            )
        if payable.amount_msat is None:
            return Text.assemble(("any amount", "bold"), ": the invoice lets you choose (type it below)")
        return Text.assemble(
            "any amount; paying ", (format_sat(payable.amount_msat), "bold"), f" ({payable.amount_msat:,} msat)"
        )

    @staticmethod
    def _features(invoice: Invoice) -> str:
        if not invoice.features:
            return "none"
        return ", ".join(
            f"{feature.name} ({'required' if feature.required else 'optional'})" for feature in invoice.features
        )

    @staticmethod
    def _hints(invoice: Invoice, aliases: Mapping[str, str]) -> str:
        if not invoice.route_hints:
            return "none (the payee is reached through public channels)"
        lines = []
        for number, hint in enumerate(invoice.route_hints, start=1):
            lines.append(f"hint {number}:")
            for hop in hint:
                alias = aliases.get(hop.node_id)
                node = f"{alias} ({short_hex(hop.node_id, 6)})" if alias else short_hex(hop.node_id, 6)
                lines.append(
                    f"  {node} via {hop.short_channel_id}: fee {hop.fee_base_msat} msat + "
                    f"{hop.fee_proportional_millionths} ppm, cltv delta {hop.cltv_expiry_delta}"
                )
        return "\n".join(lines)

    @staticmethod
    def _network(payable: PayableInvoice) -> str:
        invoice = payable.invoice
        prefix = f"ln{invoice.currency}"
        if not payable.node_network:
            return f"{invoice.network} ({prefix}…)"
        return f"{invoice.network} ({prefix}…); the node runs on {payable.node_network}"

    @staticmethod
    def _decoder(payable: PayableInvoice) -> str:
        if payable.decoded_by == "node":
            return "the node's decode (the console's decoder could not read this invoice)"
        if payable.node_decode is None:
            return "the console only (the node did not decode it: see the warnings)"
        disagreements = sum(1 for problem in payable.problems if problem.startswith("the node and the console"))
        if disagreements:
            return f"the console, cross-checked with the node's decode: {disagreements} disagreement(s), see above"
        return "the console, cross-checked with the node's decode: they agree"
