"""Messages screens send to the app: what the user asked for, for the app to carry out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # annotations only: the first screen needs no plan, nor routing (issue 5: start-up)
    from ..invoice import PayableInvoice
    from ..plan import PaymentPlan


class PayRequested(Message):
    """Pay this plan: the app asks for confirmation first, then launches it and shows the attempts."""

    def __init__(self, plan: PaymentPlan, invoice: PayableInvoice | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.invoice = invoice


class InvoiceChosen(Message):
    """A checked invoice the user wants to pay: the app opens the route editor for it."""

    def __init__(self, invoice: PayableInvoice) -> None:
        super().__init__()
        self.invoice = invoice
