"""Routes as the console shows and edits them, and as ``sendpay`` takes them.

A :class:`Route` is the list of channels from us to the destination. Hop ``i`` is the i-th channel: it joins
``hops[i-1].node_id`` (or us, for hop 0) to ``hops[i].node_id``. Amounts and delays follow ``sendpay``'s
meaning: ``hops[i].amount_msat`` is what arrives at ``hops[i].node_id`` over that channel and ``hops[i].delay``
the CLTV it gets; so the last hop's amount is what the destination receives and its delay the final CLTV.
What a hop *charges* is the difference between what it receives and what it forwards: the fee and CLTV delta
of the channel it forwards over (the next hop's channel), as BOLT 7 prices it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .node import SendpayHop


@dataclass(frozen=True)
class Hop:
    """One channel of a route and what crosses it."""

    node_id: str
    """The node at the far end of this hop's channel."""
    short_channel_id: str
    direction: int
    amount_msat: int
    """What arrives at ``node_id`` over this channel (sendpay's ``amount_msat``)."""
    delay: int
    """The CLTV ``node_id`` gets (sendpay's ``delay``)."""
    alias: str = ""
    fee_msat: int = 0
    """What ``node_id`` charges to forward onward (0 for the destination)."""
    cltv_delta: int = 0
    """The CLTV delta ``node_id`` takes to forward onward (0 for the destination)."""

    @property
    def short_channel_id_dir(self) -> str:
        return f"{self.short_channel_id}/{self.direction}"

    def to_sendpay(self) -> SendpayHop:
        return SendpayHop(self.node_id, self.short_channel_id, self.direction, self.amount_msat, self.delay)


@dataclass(frozen=True)
class Route:
    """A path from us to the destination, with the amounts and delays each hop gets."""

    hops: tuple[Hop, ...]
    source: str = ""
    """Our node id (the sender)."""

    @property
    def destination(self) -> str:
        return self.hops[-1].node_id if self.hops else self.source

    @property
    def amount_msat(self) -> int:
        """What the destination receives."""
        return self.hops[-1].amount_msat if self.hops else 0

    @property
    def amount_sent_msat(self) -> int:
        """What leaves our node: the amount plus every fee."""
        return self.hops[0].amount_msat if self.hops else 0

    @property
    def fee_msat(self) -> int:
        return self.amount_sent_msat - self.amount_msat

    @property
    def total_delay(self) -> int:
        """The CLTV our HTLC carries: the worst case, in blocks, that our funds may be locked."""
        return self.hops[0].delay if self.hops else 0

    def to_sendpay(self) -> list[SendpayHop]:
        """The exact list ``sendpay`` takes."""
        return [hop.to_sendpay() for hop in self.hops]
