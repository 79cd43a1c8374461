"""Payment plans: what to pay (a :class:`PaymentTarget`) and how (one or more :class:`PlannedPart` routes).

A plan is checked before anything is sent: its parts add up exactly to the total, every route delivers its
part's amount to the payee with at least the invoice's final CLTV, and partids are 1..N. Planners build plans
from a route finder (:class:`RouteSource`, which :class:`lnconsole.routing.RouteFinder` implements), so the
split logic works the same over ``getroutes`` and the deprecated ``getroute``.

Partids start at 1 even for a single part: CLN refuses to mix a partid-0 payment with parallel parts
(``Already have non-parallel payment in progress``), so a plan that starts at 1 can always add a part or retry
one beside parts still in flight, as CLN's own ``pay`` plugin does. Only a payee without a ``payment_secret``
(invoices from before 2021; ``partid requires payment_secret``) gets the single, partid-0 form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .amounts import fee_ppm, format_msat
from .node import NodeError
from .routing import Route, RouteNotFound

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NODE_ID = re.compile(r"^0[23][0-9a-f]{64}$")

MAX_PARTS = 64
"""More parts than this is a typo: each part is an HTLC on every channel it crosses (483 per channel max)."""


class PlanError(ValueError):
    """A plan that cannot be sent; the message says why in words a payer understands."""


class RouteSource(Protocol):
    """Finds routes to a destination: :class:`lnconsole.routing.RouteFinder` or anything shaped like it.

    Returns one route, or several delivering ``amount_msat`` between them when ``maxparts`` > 1; raises
    ``RouteNotFound`` (or a NodeError) when there is none.
    """

    def find(
        self,
        destination: str,
        amount_msat: int,
        *,
        final_cltv: int,
        maxfee_msat: int | None = None,
        maxdelay: int | None = None,
        exclude_nodes: Sequence[str] = (),
        exclude_channels: Sequence[str] = (),
        maxparts: int = 1,
        source: str | None = None,
    ) -> list[Route]: ...


# ---------------------------------------------------------------------------------------------------------------
# What to pay


@dataclass(frozen=True)
class PaymentTarget:
    """What the payer agreed to pay: everything ``sendpay`` needs besides routes."""

    payment_hash: str
    payment_secret: str | None
    destination: str
    amount_msat: int
    """The total the destination must receive (``amount_msat`` of every part's sendpay)."""
    min_final_cltv_expiry: int = 18
    """The final CLTV the payee needs (BOLT 11's default is 18 when the invoice has no ``c`` field)."""
    bolt11: str | None = None
    label: str | None = None
    supports_mpp: bool = True
    """The payee takes a payment in parts (its invoice has basic_mpp); False allows one part only."""

    def __post_init__(self) -> None:
        for name in ("payment_hash", "payment_secret", "destination"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, value.strip().lower())
        if not isinstance(self.payment_hash, str) or not _HEX64.match(self.payment_hash):
            raise PlanError(f"The payment hash must be 64 hex digits, not {self.payment_hash!r}.")
        if self.payment_secret is not None and (
            not isinstance(self.payment_secret, str) or not _HEX64.match(self.payment_secret)
        ):
            raise PlanError(f"The payment secret must be 64 hex digits, not {self.payment_secret!r}.")
        if not isinstance(self.destination, str) or not _NODE_ID.match(self.destination):
            raise PlanError(f"The destination must be a node id (66 hex digits), not {self.destination!r}.")
        if isinstance(self.amount_msat, bool) or not isinstance(self.amount_msat, int) or self.amount_msat <= 0:
            raise PlanError(f"The amount to pay must be a positive number of msat, not {self.amount_msat!r}.")
        if (
            isinstance(self.min_final_cltv_expiry, bool)
            or not isinstance(self.min_final_cltv_expiry, int)
            or self.min_final_cltv_expiry < 0
        ):
            raise PlanError(f"min_final_cltv_expiry must be a block count, not {self.min_final_cltv_expiry!r}.")

    @classmethod
    def from_invoice(cls, invoice: Any, *, amount_msat: int | None = None, label: str | None = None) -> PaymentTarget:
        """From the invoice helper's ``PayableInvoice`` (or its ``Invoice``, or anything with those fields),
        without importing it. A checked invoice with problems is refused with them.

        ``amount_msat`` is the amount to pay when the invoice has none (or overrides it).
        """
        problems = tuple(getattr(invoice, "problems", ()) or ())
        if problems:
            raise PlanError("This invoice cannot be paid: " + " ".join(str(problem) for problem in problems))
        fields = getattr(invoice, "invoice", None) or invoice
        amount = amount_msat
        if amount is None:
            amount = getattr(invoice, "amount_msat", None)
        if amount is None:
            amount = getattr(fields, "amount_msat", None)
        if amount is None:
            raise PlanError("The invoice has no amount: give the amount to pay.")
        destination = getattr(fields, "payee", None) or getattr(fields, "destination", None)
        min_final = getattr(fields, "min_final_cltv_expiry", None)
        supports_mpp = getattr(fields, "supports_mpp", None)
        return cls(
            payment_hash=getattr(fields, "payment_hash", None),  # type: ignore[arg-type]
            payment_secret=getattr(fields, "payment_secret", None),
            destination=destination,  # type: ignore[arg-type]
            amount_msat=amount,
            min_final_cltv_expiry=18 if min_final is None else min_final,
            bolt11=getattr(fields, "bolt11", None),
            label=label,
            supports_mpp=True if supports_mpp is None else bool(supports_mpp),
        )


# ---------------------------------------------------------------------------------------------------------------
# How to pay it


@dataclass(frozen=True)
class PlannedPart:
    """One part of a plan: its partid, what it delivers, and the route it takes."""

    partid: int
    amount_msat: int
    route: Route

    @property
    def fee_msat(self) -> int:
        return self.route.fee_msat

    @property
    def amount_sent_msat(self) -> int:
        return self.route.amount_sent_msat

    @property
    def total_delay(self) -> int:
        return self.route.total_delay


@dataclass(frozen=True)
class PaymentPlan:
    """The parts to send for a target; construction checks everything ``sendpay`` would otherwise refuse."""

    target: PaymentTarget
    parts: tuple[PlannedPart, ...]

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        object.__setattr__(self, "parts", parts)
        target = self.target
        if not parts:
            raise PlanError("A plan needs at least one part.")
        if len(parts) > MAX_PARTS:
            raise PlanError(f"{len(parts)} parts is too many: at most {MAX_PARTS}.")
        partids = [part.partid for part in parts]
        if len(set(partids)) != len(partids):
            raise PlanError(f"Each part needs its own partid; got {partids}.")
        if any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in partids):
            raise PlanError(f"Partids are whole numbers from 1; got {partids}.")
        if 0 in partids and len(parts) > 1:
            raise PlanError("Partid 0 is only for a single-part payment; number the parts from 1.")
        if len(parts) > 1:
            _check_multipart(target)
        for part in parts:
            _check_part(target, part)
        total = sum(part.amount_msat for part in parts)
        if total != target.amount_msat:
            raise PlanError(_sum_mismatch(total, target.amount_msat))

    # -- totals a screen shows ---------------------------------------------------------------------------------

    @property
    def amount_msat(self) -> int:
        """What the destination receives: the target's total."""
        return self.target.amount_msat

    @property
    def fee_msat(self) -> int:
        return sum(part.fee_msat for part in self.parts)

    @property
    def amount_sent_msat(self) -> int:
        return sum(part.amount_sent_msat for part in self.parts)

    @property
    def fee_ppm(self) -> int:
        return fee_ppm(self.fee_msat, self.amount_msat)

    @property
    def total_delay(self) -> int:
        """The worst-case CLTV: how many blocks our funds may be locked if a part gets stuck."""
        return max(part.total_delay for part in self.parts)

    @property
    def part_count(self) -> int:
        return len(self.parts)

    def part(self, partid: int) -> PlannedPart:
        for part in self.parts:
            if part.partid == partid:
                return part
        raise PlanError(f"The plan has no part {partid}.")

    def with_route(self, partid: int, route: Route) -> PaymentPlan:
        """The same plan with one part's route replaced (an edited route); checked like any plan."""
        self.part(partid)
        parts = tuple(
            PlannedPart(part.partid, part.amount_msat, route) if part.partid == partid else part for part in self.parts
        )
        return PaymentPlan(self.target, parts)


@dataclass(frozen=True)
class RetryOffer:
    """A failed part sent again on a new route, as the payer confirms it: the same payment (target), one part of
    ``amount_msat``, the route found (or edited) for it. It answers the same questions as a :class:`PaymentPlan`
    (amount, fees, worst-case delay, parts), so the confirmation shows either."""

    target: PaymentTarget
    failed_partid: int
    groupid: int
    route: Route

    @property
    def amount_msat(self) -> int:
        """What this part delivers (the failed part's amount), not the whole payment's."""
        return self.route.amount_msat

    @property
    def fee_msat(self) -> int:
        return self.route.fee_msat

    @property
    def amount_sent_msat(self) -> int:
        return self.route.amount_sent_msat

    @property
    def fee_ppm(self) -> int:
        return fee_ppm(self.fee_msat, self.amount_msat)

    @property
    def total_delay(self) -> int:
        return self.route.total_delay

    @property
    def part_count(self) -> int:
        return 1

    @property
    def parts(self) -> tuple[PlannedPart, ...]:
        return (PlannedPart(self.failed_partid, self.amount_msat, self.route),)


def _check_multipart(target: PaymentTarget) -> None:
    if target.payment_secret is None:
        raise PlanError("This invoice has no payment secret, so it cannot be paid in several parts.")
    if not target.supports_mpp:
        raise PlanError("The payee does not take multi-part payments (no basic_mpp in its invoice): pay in one part.")


def _check_part(target: PaymentTarget, part: PlannedPart) -> None:
    route = part.route
    label = f"Part {part.partid}"
    if isinstance(part.amount_msat, bool) or not isinstance(part.amount_msat, int) or part.amount_msat <= 0:
        raise PlanError(f"{label}: the amount must be a positive number of msat, not {part.amount_msat!r}.")
    if not route.hops:
        raise PlanError(f"{label}: the route has no hops.")
    if route.destination != target.destination:
        raise PlanError(
            f"{label}: the route ends at {route.destination[:16]}..., not at the payee {target.destination[:16]}..."
        )
    if route.amount_msat != part.amount_msat:
        raise PlanError(
            f"{label}: the route delivers {format_msat(route.amount_msat)}, not the part's "
            f"{format_msat(part.amount_msat)}."
        )
    if route.hops[-1].delay < target.min_final_cltv_expiry:
        raise PlanError(
            f"{label}: the route gives the payee a final CLTV of {route.hops[-1].delay} blocks; the invoice needs "
            f"at least {target.min_final_cltv_expiry}."
        )


def _sum_mismatch(total: int, wanted: int) -> str:
    difference = total - wanted
    side = "more" if difference > 0 else "less"
    return (
        f"The parts add up to {format_msat(total)}, {format_msat(abs(difference))} {side} than the "
        f"{format_msat(wanted)} to pay."
    )


# ---------------------------------------------------------------------------------------------------------------
# Amounts


def split_amounts(total_msat: int, parts: int) -> tuple[int, ...]:
    """``total_msat`` in ``parts`` near-equal amounts that add up exactly; the remainder goes to the first parts."""
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise PlanError(f"The number of parts must be at least 1, not {parts!r}.")
    if parts > MAX_PARTS:
        raise PlanError(f"{parts} parts is too many: at most {MAX_PARTS}.")
    if total_msat < parts:
        raise PlanError(f"{format_msat(total_msat)} cannot be split into {parts} parts of at least 1msat.")
    share, remainder = divmod(total_msat, parts)
    return tuple(share + 1 if index < remainder else share for index in range(parts))


def check_amounts(total_msat: int, amounts: Sequence[int]) -> tuple[int, ...]:
    """User-given part amounts, checked: each positive, and together exactly the total."""
    amounts = tuple(amounts)
    if not amounts:
        raise PlanError("Give at least one part amount.")
    if len(amounts) > MAX_PARTS:
        raise PlanError(f"{len(amounts)} parts is too many: at most {MAX_PARTS}.")
    for index, amount in enumerate(amounts, start=1):
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise PlanError(f"Part {index}: the amount must be a positive number of msat, not {amount!r}.")
    total = sum(amounts)
    if total != total_msat:
        raise PlanError(_sum_mismatch(total, total_msat))
    return amounts


# ---------------------------------------------------------------------------------------------------------------
# Planners


def route_not_found_errors() -> tuple[type[BaseException], ...]:
    """What a finder raises when there is no route: the routing module's RouteNotFound, and node errors."""
    return (RouteNotFound, NodeError)


def _find(finder: RouteSource, target: PaymentTarget, amount_msat: int, **limits: Any) -> list[Route]:
    try:
        routes = finder.find(target.destination, amount_msat, final_cltv=target.min_final_cltv_expiry, **limits)
    except route_not_found_errors() as error:
        raise PlanError(f"No route for {format_msat(amount_msat)}: {_reason(error)}") from error
    if not routes:
        raise PlanError(f"No route for {format_msat(amount_msat)}.")
    return list(routes)


def _reason(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    return message.rstrip(".") + "."


def single(target: PaymentTarget, route: Route) -> PaymentPlan:
    """One part over ``route``, which must deliver the whole amount (partid 1; 0 without a payment_secret)."""
    partid = 1 if target.payment_secret is not None else 0
    return PaymentPlan(target, (PlannedPart(partid, route.amount_msat, route),))


def single_routed(
    target: PaymentTarget,
    finder: RouteSource,
    *,
    maxfee_msat: int | None = None,
    maxdelay: int | None = None,
    exclude_nodes: Sequence[str] = (),
    exclude_channels: Sequence[str] = (),
) -> PaymentPlan:
    """One part, routed by the finder."""
    routes = _find(
        finder,
        target,
        target.amount_msat,
        maxfee_msat=maxfee_msat,
        maxdelay=maxdelay,
        exclude_nodes=tuple(exclude_nodes),
        exclude_channels=tuple(exclude_channels),
    )
    return single(target, routes[0])


def equal_split(
    target: PaymentTarget,
    parts: int,
    finder: RouteSource,
    *,
    maxfee_msat: int | None = None,
    maxdelay: int | None = None,
    exclude_nodes: Sequence[str] = (),
    exclude_channels: Sequence[str] = (),
) -> PaymentPlan:
    """``parts`` near-equal parts (the remainder msat on the first ones), each routed by the finder."""
    amounts = split_amounts(target.amount_msat, parts)
    return _routed_plan(target, amounts, finder, maxfee_msat, maxdelay, exclude_nodes, exclude_channels)


def custom_split(
    target: PaymentTarget,
    amounts: Sequence[int],
    finder: RouteSource,
    *,
    maxfee_msat: int | None = None,
    maxdelay: int | None = None,
    exclude_nodes: Sequence[str] = (),
    exclude_channels: Sequence[str] = (),
) -> PaymentPlan:
    """Parts of the amounts the user gave (they must add up to the total), each routed by the finder."""
    checked = check_amounts(target.amount_msat, amounts)
    return _routed_plan(target, checked, finder, maxfee_msat, maxdelay, exclude_nodes, exclude_channels)


def liquidity_plan(
    target: PaymentTarget,
    finder: RouteSource,
    maxparts: int,
    *,
    maxfee_msat: int | None = None,
    maxdelay: int | None = None,
    exclude_nodes: Sequence[str] = (),
    exclude_channels: Sequence[str] = (),
) -> PaymentPlan:
    """Up to ``maxparts`` parts split by liquidity in one ``getroutes`` call, the way xpay plans a payment."""
    if isinstance(maxparts, bool) or not isinstance(maxparts, int) or not 1 <= maxparts <= MAX_PARTS:
        raise PlanError(f"maxparts must be between 1 and {MAX_PARTS}, not {maxparts!r}.")
    if maxparts > 1:
        _check_multipart(target)
    routes = _find(
        finder,
        target,
        target.amount_msat,
        maxfee_msat=maxfee_msat,
        maxdelay=maxdelay,
        exclude_nodes=tuple(exclude_nodes),
        exclude_channels=tuple(exclude_channels),
        maxparts=maxparts,
    )
    if len(routes) > maxparts:
        raise PlanError(f"The route finder returned {len(routes)} routes, more than the {maxparts} parts allowed.")
    if len(routes) == 1:
        return single(target, routes[0])
    parts = tuple(PlannedPart(index, route.amount_msat, route) for index, route in enumerate(routes, start=1))
    return PaymentPlan(target, parts)


def _routed_plan(
    target: PaymentTarget,
    amounts: Sequence[int],
    finder: RouteSource,
    maxfee_msat: int | None,
    maxdelay: int | None,
    exclude_nodes: Sequence[str],
    exclude_channels: Sequence[str],
) -> PaymentPlan:
    """Route each amount in turn, spreading the parts over different channels where the graph allows.

    A finder sees each part alone: it does not know what the plan's earlier parts already put on a channel
    (remote balances are unknown to it, as to CLN), so three parts asked one by one would all take the cheapest
    path and the later ones fail there. Each part therefore first avoids every channel an earlier part uses,
    then (no route that way) only the channels beyond our own, whose spendable the finder knows, and finally
    takes any route.
    """
    if len(amounts) > 1:
        _check_multipart(target)
    base_channels = tuple(exclude_channels)
    routes: list[Route] = []
    for index, amount in enumerate(amounts, start=1):
        budget = None if maxfee_msat is None else maxfee_msat - sum(route.fee_msat for route in routes)
        if budget is not None and budget < 0:
            raise PlanError(f"The fee limit {format_msat(maxfee_msat or 0)} is used up before part {index}.")
        used_all = _channels(routes, from_hop=0)
        used_remote = _channels(routes, from_hop=1)
        tiers = [base_channels + used_all, base_channels + used_remote, base_channels] if routes else [base_channels]
        last_error: PlanError | None = None
        route: Route | None = None
        for excluded in _distinct(tiers):
            try:
                route = _find(
                    finder,
                    target,
                    amount,
                    maxfee_msat=budget,
                    maxdelay=maxdelay,
                    exclude_nodes=tuple(exclude_nodes),
                    exclude_channels=excluded,
                )[0]
                break
            except PlanError as error:
                last_error = error
        if route is None:
            assert last_error is not None
            raise PlanError(f"Part {index} of {len(amounts)}: {last_error}") from last_error
        routes.append(route)
    partid_base = 1 if target.payment_secret is not None else 0
    parts = tuple(
        PlannedPart(partid_base + index, amount, route)
        for index, (amount, route) in enumerate(zip(amounts, routes, strict=True))
    )
    return PaymentPlan(target, parts)


def _channels(routes: Sequence[Route], from_hop: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for route in routes:
        for hop in route.hops[from_hop:]:
            seen[hop.short_channel_id_dir] = None
    return tuple(seen)


def _distinct(tiers: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = []
    for tier in tiers:
        if tier not in result:
            result.append(tier)
    return result


__all__ = [
    "MAX_PARTS",
    "PaymentPlan",
    "PaymentTarget",
    "PlanError",
    "PlannedPart",
    "RetryOffer",
    "RouteSource",
    "check_amounts",
    "custom_split",
    "equal_split",
    "liquidity_plan",
    "route_not_found_errors",
    "single",
    "single_routed",
    "split_amounts",
]
