"""Sending a payment plan and watching it: preflight, ``sendpay``, the ``waitsendpay`` watcher, retries.

The rules that keep money safe (issue 6, "nothing lost, nothing sent twice"):

- :func:`preflight` asks the node (``listsendpays``) before anything is sent: an already paid hash sends
  nothing, parts in flight are watched instead of sent again, and a failed payment gets a new groupid.
- A :class:`PaymentSession` launches once; every (groupid, partid) it sends is claimed first, so a double key
  press, a second launch or a retry of a used part is refused locally, before the node is asked.
- A lost answer (the socket went away mid-``sendpay``) is never answered by sending again blindly: the part
  waits for the node, asks ``listsendpays`` whether it has the part, and only sends it (with the same partid
  and groupid, which CLN would answer with the existing part anyway) when the node has no record of it.
- A retry first asks the node what is in flight, so it never carries more than the total, and joins the
  group in flight (a new partid) or starts a new group when nothing is (CLN allows one group in flight and
  refuses to reuse a (payment_hash, partid, groupid)). Retries happen when the caller asks, or automatically
  only under a :class:`RetryPolicy` the caller gave. Final failures (the destination refused) stop.
- A payment is complete once a part is (the payee released the preimage). When the complete parts this
  session knows carry less than the total, someone else sent the rest: the node is asked once for the group's
  other parts, and those still pending are watched, before PaymentComplete counts them all.
- Stopping a session stops watching; the payment goes on on the node, and :meth:`PaymentSession.attach`
  (from this or a new process) picks its parts up again.

Events are frozen dataclasses delivered to ``on_event`` **from the watcher threads** (or from the thread that
called launch/retry/attach), one at a time and in order; a UI must hand them to its own thread (Textual:
``call_from_thread``) and must not block in the callback.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .amounts import format_msat
from .failures import FAILURES_BY_NAME, FailureExplanation, explain
from .graph import Aliases
from .node import (
    INVALID_PARAMS,
    PAY_DESTINATION_PERM_FAIL,
    PAY_IN_PROGRESS,
    PAY_NO_SUCH_PAYMENT,
    PAY_RHASH_ALREADY_USED,
    PAY_TRY_OTHER_ROUTE,
    PAY_UNPARSEABLE_ONION,
    NodeClient,
    NodeError,
    NodeUnreachable,
    RoutingFailure,
    SendPayment,
    UnexpectedAnswer,
)
from .plan import PaymentPlan, PaymentTarget, PlanError, RouteSource
from .routing import Route, RouteFinder, RouteNotFound

log = logging.getLogger(__name__)

_MPP_TIMEOUT = FAILURES_BY_NAME["mpp_timeout"].code
_MPP_TIMEOUT_MESSAGE = (
    "The payee did not get every part in time (mpp_timeout) and released what it held: "
    "send the parts again, together, in a new group."
)

IN_FLIGHT = ("sending", "pending", "unknown")
"""Part states in which the part may hold (or be about to hold) an HTLC."""


class PaymentError(Exception):
    """Something the session refuses to do; the message is meant for the payer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyLaunched(PaymentError):
    """A second launch of the same session (a double key press, a second confirm)."""


class DuplicatePart(PaymentError):
    """A (groupid, partid) this session already sent: CLN would refuse it, and we must not send twice."""


class RetryRefused(PaymentError):
    """A retry that must not happen (final failure, part in flight, already retried, already paid...)."""


# ---------------------------------------------------------------------------------------------------------------
# Preflight: what the node already has for this payment_hash


@dataclass(frozen=True)
class AlreadyPaid:
    """The node has a complete part: the payment is done; send nothing."""

    payment_hash: str
    groupid: int
    preimage: str
    amount_msat: int
    """What the destination got (the complete parts' amounts)."""
    amount_sent_msat: int
    parts: tuple[SendPayment, ...]


@dataclass(frozen=True)
class Pending:
    """Parts are in flight (sent by us earlier or by another console): watch them, don't send again."""

    payment_hash: str
    groupid: int
    parts: tuple[SendPayment, ...]
    """Every part of the group in flight (its failed parts too)."""

    @property
    def pending_parts(self) -> tuple[SendPayment, ...]:
        return tuple(part for part in self.parts if part.status == "pending")

    @property
    def amount_in_flight_msat(self) -> int:
        return sum(part.amount_msat or 0 for part in self.pending_parts)


@dataclass(frozen=True)
class Fresh:
    """Nothing in flight or paid: a new attempt may go out, as group ``next_groupid``."""

    payment_hash: str
    next_groupid: int
    failed_before: tuple[SendPayment, ...] = ()


Preflight = AlreadyPaid | Pending | Fresh


def preflight(node: NodeClient, target: PaymentTarget | str) -> Preflight:
    """Ask the node (``listsendpays``) what it has for this payment_hash before sending anything."""
    payment_hash = target if isinstance(target, str) else target.payment_hash
    return classify(payment_hash, node.listsendpays(payment_hash=payment_hash))


def classify(payment_hash: str, records: Sequence[SendPayment]) -> Preflight:
    """:func:`preflight` on records already fetched."""
    records = [record for record in records if record.payment_hash == payment_hash]
    complete = [record for record in records if record.status == "complete"]
    if complete:
        groupid = complete[0].groupid
        group = tuple(record for record in complete if record.groupid == groupid)
        return AlreadyPaid(
            payment_hash=payment_hash,
            groupid=groupid,
            preimage=next((r.payment_preimage for r in complete if r.payment_preimage), "") or "",
            amount_msat=sum(record.amount_msat or 0 for record in group),
            amount_sent_msat=sum(record.amount_sent_msat for record in group),
            parts=group,
        )
    pending = [record for record in records if record.status == "pending"]
    if pending:
        groupid = max(record.groupid for record in pending)
        return Pending(payment_hash, groupid, tuple(record for record in records if record.groupid == groupid))
    return Fresh(payment_hash, max((record.groupid for record in records), default=0) + 1, tuple(records))


# ---------------------------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, kw_only=True)
class PaymentEvent:
    """Something happened to the payment; ``elapsed`` is seconds since what the event is about started."""

    payment_hash: str
    groupid: int
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class PartEvent(PaymentEvent):
    """Something happened to one part; ``elapsed`` counts from when the part was sent (or attached)."""

    partid: int
    amount_msat: int
    amount_sent_msat: int
    route: Route | None
    """None for a part found on the node (attached) whose route this console did not plan."""
    status: str
    """``sending``, ``pending``, ``complete``, ``failed``, ``unknown`` (answer lost) or ``not_sent``."""


@dataclass(frozen=True, kw_only=True)
class PartSent(PartEvent):
    retry_of: tuple[int, int] | None = None
    """(groupid, partid) of the failed part this one replaces."""


@dataclass(frozen=True, kw_only=True)
class PartAttached(PartEvent):
    """A part found on the node (in flight, or failed in the group in flight), now watched."""


@dataclass(frozen=True, kw_only=True)
class PartPending(PartEvent):
    """Still in flight after ``elapsed`` seconds."""


@dataclass(frozen=True, kw_only=True)
class PartComplete(PartEvent):
    preimage: str
    preimage_verified: bool
    """sha256(preimage) == payment_hash, checked here rather than trusted."""


@dataclass(frozen=True, kw_only=True)
class PartFailed(PartEvent):
    failure: RoutingFailure | None
    """The routing failure object (203/204), None when the node gave none (202, 208, refused parameters)."""
    explanation: FailureExplanation | None
    code: int | None
    message: str
    retryable: bool
    final: bool
    """The destination refused: no retry can succeed."""


@dataclass(frozen=True, kw_only=True)
class PartProblem(PartEvent):
    """The node answered something unexpected while we watched the part; still watching."""

    code: int | None
    message: str


@dataclass(frozen=True, kw_only=True)
class NodeUnreachableEvent(PartEvent):
    """The node did not answer about this part; it is asked again after ``retry_in`` seconds."""

    message: str
    attempt: int
    retry_in: float


@dataclass(frozen=True, kw_only=True)
class NodeReachable(PartEvent):
    """The node answers again after ``down_for`` seconds."""

    down_for: float


@dataclass(frozen=True, kw_only=True)
class PaymentComplete(PaymentEvent):
    preimage: str
    amount_msat: int
    amount_sent_msat: int
    fee_msat: int
    parts: int
    already_paid: bool = False
    """True when the payment was complete before this session sent anything."""


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(PaymentEvent):
    reason: str
    final: bool
    """True: no retry can succeed. False: nothing is in flight, and ``retryable_parts`` may be retried."""
    retryable_parts: tuple[tuple[int, int], ...] = ()
    """(groupid, partid) of the failed parts :meth:`PaymentSession.retry_part` accepts."""
    in_flight: int = 0


# ---------------------------------------------------------------------------------------------------------------
# Session state


@dataclass(frozen=True)
class RetryPolicy:
    """Automatic retries, only when the caller passes one: at most ``max_attempts`` re-sends in all, within a
    fee ceiling for the whole payment and a CLTV ceiling per route."""

    max_attempts: int = 3
    max_fee_msat: int | None = None
    max_delay: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 0:
            raise PaymentError(f"max_attempts must be 0 or more, not {self.max_attempts!r}.")
        if self.max_fee_msat is not None and self.max_fee_msat < 0:
            raise PaymentError(f"max_fee_msat must be 0 or more, not {self.max_fee_msat!r}.")
        if self.max_delay is not None and self.max_delay <= 0:
            raise PaymentError(f"max_delay must be a positive block count, not {self.max_delay!r}.")


@dataclass(frozen=True)
class PartView:
    """A part as a screen shows it (a snapshot)."""

    payment_hash: str
    groupid: int
    partid: int
    amount_msat: int
    amount_sent_msat: int
    route: Route | None
    status: str
    preimage: str | None
    failure: RoutingFailure | None
    explanation: FailureExplanation | None
    code: int | None
    message: str
    retryable: bool
    retry_of: tuple[int, int] | None
    retried_by: tuple[int, int] | None

    @property
    def fee_msat(self) -> int:
        return self.amount_sent_msat - self.amount_msat


@dataclass(frozen=True)
class LaunchResult:
    """What :meth:`PaymentSession.launch` did: ``sent`` the plan, ``attached`` to parts in flight, or nothing
    because the payment was ``already_paid``."""

    outcome: str
    groupid: int | None
    preflight: Preflight


@dataclass(eq=False)
class _Part:
    groupid: int
    partid: int
    amount_msat: int
    amount_sent_msat: int
    route: Route | None
    status: str
    started: float
    retry_of: tuple[int, int] | None = None
    preimage: str | None = None
    preimage_verified: bool = False
    failure: RoutingFailure | None = None
    explanation: FailureExplanation | None = None
    code: int | None = None
    message: str = ""
    retryable: bool = False
    final: bool = False
    retried_by: tuple[int, int] | None = None
    auto_done: bool = False
    """The retry policy has had its say on this failed part (retried it, or could not)."""
    watch_stop: threading.Event | None = None
    """The stop event of the thread watching this part, None when no thread does."""
    down_since: float | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.groupid, self.partid)


class PaymentSession:
    """Sends one payment's plan and watches its parts until they settle; see the module docstring.

    ``finder`` defaults to a :class:`lnconsole.routing.RouteFinder`, made when a retry first needs a route.
    Failures are explained by :func:`lnconsole.failures.explain`, with the aliases of the erring nodes (asked of
    the node once each). ``clock`` (seconds, monotonic) stamps ``elapsed`` in events, so tests can pin it.
    ``on_event`` is called from background threads.
    """

    def __init__(
        self,
        node: NodeClient,
        target: PaymentTarget,
        *,
        on_event: Callable[[PaymentEvent], None] | None = None,
        finder: RouteSource | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        poll_timeout_s: int = 1,
        pending_interval_s: float = 1.0,
        backoff_initial_s: float = 0.25,
        backoff_cap_s: float = 5.0,
    ) -> None:
        self.node = node
        self.target = target
        self.retry_policy = retry_policy
        self._on_event = on_event
        self._finder = finder
        self._aliases = Aliases(node)
        self._clock = clock
        self.poll_timeout_s = max(1, int(poll_timeout_s))
        self.pending_interval_s = pending_interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_cap_s = backoff_cap_s
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._emit_lock = threading.RLock()
        self._retry_lock = threading.RLock()
        self._queue: deque[PaymentEvent] = deque()
        self._history: list[PaymentEvent] = []
        self._parts: dict[tuple[int, int], _Part] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._launched = False
        self._started: float | None = None
        self._groupid: int | None = None
        self._outcome: PaymentComplete | PaymentFailed | None = None
        self._final_reason: str | None = None
        self._auto_retries = 0
        self._excluded_nodes: dict[str, None] = {}
        self._excluded_channels: dict[str, None] = {}
        self._asked_for: frozenset[tuple[int, int]] = frozenset()
        """The complete parts for which the node was last asked for the rest of the group."""
        self._asking = False

    # -- what a screen reads -----------------------------------------------------------------------------------

    @property
    def groupid(self) -> int | None:
        """The group this session sends in (the latest, after a retry started a new group)."""
        return self._groupid

    @property
    def launched(self) -> bool:
        """Whether this session has launched (or attached to) its payment: a second launch would be refused.
        False again when a launch sent nothing because the node could not be asked."""
        return self._launched

    @property
    def events(self) -> list[PaymentEvent]:
        """Every event delivered so far, in order."""
        with self._lock:
            return list(self._history)

    @property
    def outcome(self) -> PaymentComplete | PaymentFailed | None:
        """The latest PaymentComplete/PaymentFailed (a non-final failure is replaced when a retry goes out)."""
        return self._outcome

    def parts(self) -> tuple[PartView, ...]:
        with self._lock:
            return tuple(self._view(part) for part in self._parts.values())

    def part(self, partid: int, groupid: int | None = None) -> PartView:
        with self._lock:
            return self._view(self._find_part(partid, groupid))

    @property
    def excluded_channels(self) -> tuple[str, ...]:
        """Channel directions (``scid/dir``) that failed during this payment, avoided by retries."""
        return tuple(self._excluded_channels)

    @property
    def excluded_nodes(self) -> tuple[str, ...]:
        return tuple(self._excluded_nodes)

    def wait(self, timeout: float | None = None) -> PaymentComplete | PaymentFailed | None:
        """Block until the payment completes or fails (the outcome), or ``timeout`` seconds pass (None)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._outcome is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._outcome

    def stop(self, join: bool = False) -> None:
        """Stop watching. The payment itself goes on on the node; :meth:`attach` picks it up again."""
        self._stop.set()
        if join:
            for thread in list(self._threads):
                if thread is not threading.current_thread():
                    thread.join(timeout=self.poll_timeout_s + 5)

    # -- launching ---------------------------------------------------------------------------------------------

    def launch(self, plan: PaymentPlan) -> LaunchResult:
        """Send ``plan`` once: preflight, then ``sendpay`` every part (partids as planned, one new groupid).

        Returns ``already_paid`` (nothing sent), ``attached`` (parts were in flight: watched, not sent again)
        or ``sent``. A second call raises AlreadyLaunched.
        """
        if plan.target != self.target:
            raise PaymentError("This plan is for another payment than this session's.")
        with self._lock:
            if self._launched:
                raise AlreadyLaunched("This payment was already launched: it is not sent again.")
            self._begin()
        try:
            found = preflight(self.node, self.target)
        except BaseException:
            with self._lock:
                self._launched = False  # nothing was sent: the payer may try again
            raise
        if not isinstance(found, Fresh):
            return self._take_over(found)

        groupid = found.next_groupid
        with self._lock:
            self._groupid = groupid
            parts = [
                self._new_part(groupid, planned.partid, planned.amount_msat, planned.route) for planned in plan.parts
            ]
        failed: list[_Part] = []
        aborted: _Part | None = None
        for index, part in enumerate(parts):
            if aborted is not None:
                self._fail(part, f"Not sent: part {aborted.partid} was refused ({aborted.message}).", status="not_sent")
                continue
            if any(earlier.status == "unknown" for earlier in parts[:index]):
                # The node stopped answering: this part waits for it with the others (sent once it is back,
                # unless the node shows it already has it).
                self._mark_unknown(part, None)
                self._start_thread(part)
                continue
            self._send(part)
            if part.status in IN_FLIGHT:
                self._start_thread(part)
            elif part.status == "failed":
                failed.append(part)
            if part.status == "not_sent":  # refused for a reason that concerns the whole payment: stop launching
                aborted = part
        self._deliver()
        if aborted is not None and aborted.code in (PAY_IN_PROGRESS, PAY_RHASH_ALREADY_USED):
            # Someone else (another console, the pay plugin) is paying or has paid this hash.
            try:
                again = preflight(self.node, self.target)
            except NodeError:
                again = found
            if not isinstance(again, Fresh):
                return self._take_over(again)
        for part in failed:
            self._after_failure(part)
        self._settle()
        return LaunchResult("sent", groupid, found)

    def attach(self, pending: Pending | None = None) -> Preflight:
        """Watch parts already on the node (after a restart, or sent by another console) instead of sending.

        Without ``pending`` the node is asked first. Also resumes watching this session's own parts after
        :meth:`stop`.
        """
        found: Preflight = pending if pending is not None else preflight(self.node, self.target)
        with self._lock:
            if self._stop.is_set():
                self._stop = threading.Event()
            own = [part for part in self._parts.values() if part.status in IN_FLIGHT]
        for part in own:  # this session's own parts, watched again after stop(): each reports its real outcome
            self._start_thread(part)
        if isinstance(found, AlreadyPaid) and not own:
            self._adopt_paid(found)
        elif isinstance(found, Pending):
            self._attach(found)
        return found

    def _begin(self) -> None:
        self._launched = True
        if self._started is None:
            self._started = self._clock()

    def _take_over(self, found: AlreadyPaid | Pending) -> LaunchResult:
        """The node already has this payment: report it paid, or watch its parts in flight."""
        if isinstance(found, AlreadyPaid):
            self._adopt_paid(found)
            return LaunchResult("already_paid", found.groupid, found)
        self._attach(found)
        return LaunchResult("attached", found.groupid, found)

    def _attach(self, found: Pending) -> None:
        with self._lock:
            self._begin()
            if self._stop.is_set():
                self._stop = threading.Event()
            self._groupid = found.groupid
            if isinstance(self._outcome, PaymentFailed):
                self._outcome = None  # parts are in flight again
        # A failed part of the group is watched too: waitsendpay answers its failure at once, so the screen can
        # explain it and offer a retry (which checks what is in flight first).
        self._adopt(found.parts, watch=("pending", "failed"))

    def _adopt(self, records: Sequence[SendPayment], *, watch: tuple[str, ...]) -> None:
        """Take the node's parts this session does not have as attached parts; watch those whose status is in
        ``watch``, and this session's own parts still in flight."""
        to_watch: list[_Part] = []
        with self._lock:
            for record in records:
                key = (record.groupid, record.partid)
                part = self._parts.get(key)
                if part is not None and part.status != "not_sent":  # (not_sent: the record is another console's)
                    if part.status in IN_FLIGHT:
                        to_watch.append(part)
                    continue
                part = _Part(
                    groupid=record.groupid,
                    partid=record.partid,
                    amount_msat=record.amount_msat or 0,
                    amount_sent_msat=record.amount_sent_msat,
                    route=None,
                    status=record.status,
                    started=self._clock(),
                )
                if record.status == "complete":
                    part.preimage = record.payment_preimage or ""
                    part.preimage_verified = _preimage_matches(part.preimage, self.target.payment_hash)
                self._parts[key] = part
                self._queue_part(part, PartAttached)
                if record.status in watch:
                    to_watch.append(part)
        self._deliver()
        for part in to_watch:
            self._start_thread(part, read_failure=part.status == "failed")

    def _adopt_paid(self, paid: AlreadyPaid, *, deliver: bool = True) -> None:
        with self._lock:
            self._begin()
            self._groupid = paid.groupid
            if not isinstance(self._outcome, PaymentComplete):
                self._emit_complete(
                    paid.groupid, paid.preimage, paid.amount_msat, paid.amount_sent_msat, len(paid.parts), True
                )
        if deliver:
            self._deliver()

    # -- retrying ----------------------------------------------------------------------------------------------

    def retry_part(
        self,
        partid: int,
        *,
        groupid: int | None = None,
        route: Route | None = None,
        maxfee_msat: int | None = None,
        maxdelay: int | None = None,
    ) -> PartView:
        """Send a failed part's amount again on a fresh route (or ``route``, an edited one).

        The new part joins the group in flight with a new partid, or starts a new group when nothing is in
        flight. The finder avoids every channel direction and node the failures so far pointed at. Raises
        RetryRefused when the retry must not happen (and says why).
        """
        with self._lock:
            part = self._find_part(partid, groupid)
        try:
            new = self._retry(part, route=route, maxfee_msat=maxfee_msat, maxdelay=maxdelay, auto=False)
        finally:
            self._deliver()
        if new.status == "failed":
            self._after_failure(new)
        self._settle()
        with self._lock:
            return self._view(new)

    def propose_retry(
        self,
        partid: int,
        *,
        groupid: int | None = None,
        route: Route | None = None,
        maxfee_msat: int | None = None,
        maxdelay: int | None = None,
    ) -> Route:
        """The route a retry of this part would take (``route``, an edited one, or a fresh one avoiding every
        failure so far), found and checked but **not sent**: the console shows it for confirmation first, then
        hands it to :meth:`retry_part`, which checks everything again against the node before sending.

        Raises RetryRefused when a retry must not happen now (and says why).
        """
        with self._lock:
            part = self._find_part(partid, groupid)
            self._check_retryable(part)
        amount = part.amount_msat
        if route is None:
            route = self._find_route(amount, maxfee_msat=maxfee_msat, maxdelay=maxdelay)
        self._check_route(route, amount, maxfee_msat=maxfee_msat, maxdelay=maxdelay)
        return route

    def retry_all(self, *, maxfee_msat: int | None = None, maxdelay: int | None = None) -> tuple[PartView, ...]:
        """Retry every failed part that may be retried (after an mpp_timeout: the whole payment, in a new group)."""
        with self._lock:
            candidates = [
                part
                for part in self._parts.values()
                if part.status == "failed" and part.retryable and part.retried_by is None
            ]
        if not candidates:
            raise RetryRefused("No failed part can be retried.")
        return tuple(
            self.retry_part(part.partid, groupid=part.groupid, maxfee_msat=maxfee_msat, maxdelay=maxdelay)
            for part in candidates
        )

    def _retry(
        self,
        part: _Part,
        *,
        route: Route | None,
        maxfee_msat: int | None,
        maxdelay: int | None,
        auto: bool,
    ) -> _Part:
        with self._retry_lock:
            with self._lock:
                self._check_retryable(part)
            records = self.node.listsendpays(payment_hash=self.target.payment_hash)
            found = classify(self.target.payment_hash, records)
            if isinstance(found, AlreadyPaid):
                self._adopt_paid(found, deliver=False)
                raise RetryRefused("The payment is already complete: nothing more is sent.")
            with self._lock:
                self._check_retryable(part)
                groupid, in_flight = self._retry_group(records)
            amount = part.amount_msat
            if in_flight + amount > self.target.amount_msat:
                raise RetryRefused(
                    f"Parts in flight already carry {format_msat(in_flight)} of {format_msat(self.target.amount_msat)}:"
                    f" sending {format_msat(amount)} again would pay more than asked."
                )
            if route is None:
                route = self._find_route(amount, maxfee_msat=maxfee_msat, maxdelay=maxdelay)
            self._check_route(route, amount, maxfee_msat=maxfee_msat, maxdelay=maxdelay)
            with self._lock:
                self._check_retryable(part)
                used = {record.partid for record in records if record.groupid == groupid}
                used |= {key[1] for key in self._parts if key[0] == groupid}
                new = self._new_part(groupid, max(used, default=0) + 1, amount, route)
                new.retry_of = part.key
                part.retried_by = new.key
                part.retryable = False
                if auto:
                    self._auto_retries += 1
                self._groupid = groupid
                self._outcome = None
            self._send(new)
            if new.status in IN_FLIGHT:
                self._start_thread(new)
            return new  # events are delivered by the caller, outside the retry lock

    def _check_retryable(self, part: _Part) -> None:
        label = f"Part {part.partid} (group {part.groupid})"
        if part.retried_by is not None:
            again_groupid, again_partid = part.retried_by
            raise RetryRefused(f"{label} was already retried as part {again_partid} (group {again_groupid}).")
        if part.status in IN_FLIGHT:
            raise RetryRefused(f"{label} is still in flight: wait for its outcome before retrying it.")
        if part.status == "complete" or isinstance(self._outcome, PaymentComplete):
            raise RetryRefused("The payment is already complete: nothing more is sent.")
        if part.final:
            raise RetryRefused(f"{label} failed at the destination ({part.message}): a retry cannot succeed.")
        if self._final_reason is not None:
            raise RetryRefused(f"No retry: {self._final_reason}")
        if not part.retryable:
            raise RetryRefused(f"{label} cannot be retried: {part.message or 'it was refused by the node'}")

    def _retry_group(self, records: Sequence[SendPayment]) -> tuple[int, int]:
        """The group a retry goes into, and the amount already in flight there (node's records and ours)."""
        pending = [record for record in records if record.status == "pending"]
        if pending:
            groupid = max(record.groupid for record in pending)
            if groupid not in {key[0] for key in self._parts}:
                raise RetryRefused(
                    f"Another attempt (group {groupid}) is in flight on the node: attach to it instead of retrying."
                )
        else:
            local = [part for part in self._parts.values() if part.status in IN_FLIGHT]
            if local:
                groupid = local[0].groupid
            else:
                known = [record.groupid for record in records] + [key[0] for key in self._parts]
                groupid = max(known, default=0) + 1
        carried: dict[tuple[int, int], int] = {
            (record.groupid, record.partid): record.amount_msat or 0
            for record in records
            if record.groupid == groupid and record.status == "pending"
        }
        for part in self._parts.values():
            if part.groupid == groupid and part.status in IN_FLIGHT:
                carried[part.key] = part.amount_msat
        return groupid, sum(carried.values())

    def _find_route(self, amount_msat: int, *, maxfee_msat: int | None, maxdelay: int | None) -> Route:
        if self._finder is None:
            self._finder = RouteFinder(self.node, self.node.getinfo().id)
        try:
            routes = self._finder.find(
                self.target.destination,
                amount_msat,
                final_cltv=self.target.min_final_cltv_expiry,
                maxfee_msat=self._fee_budget(maxfee_msat),
                maxdelay=maxdelay,
                exclude_nodes=tuple(self._excluded_nodes),
                exclude_channels=tuple(self._excluded_channels),
            )
        except (RouteNotFound, NodeError) as error:
            raise RetryRefused(f"No other route for {format_msat(amount_msat)}: {error.message}") from error
        if not routes:
            raise RetryRefused(f"No other route for {format_msat(amount_msat)}.")
        return routes[0]

    def _fee_budget(self, maxfee_msat: int | None) -> int | None:
        """What the new part may spend on fees, when the whole payment's fees are capped."""
        if maxfee_msat is None:
            return None
        with self._lock:
            spent = sum(
                part.amount_sent_msat - part.amount_msat
                for part in self._parts.values()
                if part.status in (*IN_FLIGHT, "complete")
            )
        budget = maxfee_msat - spent
        if budget < 0:
            raise RetryRefused(f"The fee limit {format_msat(maxfee_msat)} is already used up by the parts in flight.")
        return budget

    def _check_route(self, route: Route, amount: int, *, maxfee_msat: int | None, maxdelay: int | None) -> None:
        if not route.hops or route.destination != self.target.destination:
            raise RetryRefused("The route does not end at the payee.")
        if route.amount_msat != amount:
            raise RetryRefused(
                f"The route delivers {format_msat(route.amount_msat)}, not the part's {format_msat(amount)}."
            )
        if route.hops[-1].delay < self.target.min_final_cltv_expiry:
            raise RetryRefused(
                f"The route's final CLTV {route.hops[-1].delay} is below the invoice's "
                f"{self.target.min_final_cltv_expiry}."
            )
        budget = self._fee_budget(maxfee_msat)
        if budget is not None and route.fee_msat > budget:
            raise RetryRefused(f"The route's fee {format_msat(route.fee_msat)} is over the {format_msat(budget)} left.")
        if maxdelay is not None and route.total_delay > maxdelay:
            raise RetryRefused(f"The route locks funds for {route.total_delay} blocks, over the {maxdelay} allowed.")

    def _after_failure(self, part: _Part) -> None:
        """Retry automatically when (and only when) a RetryPolicy allows it, then settle the payment's state."""
        current: _Part | None = part
        while current is not None:
            with self._lock:
                if not self._auto_retry_allowed(current):
                    current.auto_done = True
                    break
            policy = self.retry_policy
            assert policy is not None
            try:
                new = self._retry(
                    current, route=None, maxfee_msat=policy.max_fee_msat, maxdelay=policy.max_delay, auto=True
                )
            except (PaymentError, PlanError, NodeError) as error:
                message = getattr(error, "message", str(error))
                with self._lock:
                    current.message = f"{current.message} Automatic retry not possible: {message}".strip()
                    current.auto_done = True
                break
            finally:
                self._deliver()
            with self._lock:
                current.auto_done = True
            current = new if new.status == "failed" else None
        self._settle()

    def _retry_coming(self, part: _Part) -> bool:
        """A failed part the retry policy is about to retry counts as in flight for the payment's state."""
        return part.status == "failed" and not part.auto_done and self._auto_retry_allowed(part)

    def _auto_retry_allowed(self, part: _Part) -> bool:
        policy = self.retry_policy
        return (
            policy is not None
            and not self._stop.is_set()
            and part.status == "failed"
            and part.retryable
            and part.retried_by is None
            and self._final_reason is None
            and not isinstance(self._outcome, PaymentComplete)
            and self._auto_retries < policy.max_attempts
        )

    # -- sending -----------------------------------------------------------------------------------------------

    def _new_part(self, groupid: int, partid: int, amount_msat: int, route: Route) -> _Part:
        """Claim (groupid, partid) for a part about to be sent: a key is sent at most once per session."""
        key = (groupid, partid)
        if key in self._parts:
            raise DuplicatePart(f"Part {partid} of group {groupid} was already sent: it is not sent twice.")
        part = _Part(
            groupid=groupid,
            partid=partid,
            amount_msat=amount_msat,
            amount_sent_msat=route.amount_sent_msat,
            route=route,
            status="sending",
            started=self._clock(),
        )
        self._parts[key] = part
        return part

    def _send(self, part: _Part) -> None:
        """One ``sendpay`` for ``part``; its status tells the caller what happened (no threads started here)."""
        assert part.route is not None
        target = self.target
        try:
            record = self.node.sendpay(
                part.route.to_sendpay(),
                target.payment_hash,
                amount_msat=target.amount_msat if part.partid else part.amount_msat,
                label=target.label,
                bolt11=target.bolt11,
                payment_secret=target.payment_secret,
                partid=part.partid,
                groupid=part.groupid,
            )
        except (NodeUnreachable, UnexpectedAnswer) as error:
            # No answer, or one that could not be read: the node may have the part. It is asked, not told again.
            self._mark_unknown(part, error)
            return
        except NodeError as error:
            self._send_refused(part, error)
            return
        with self._lock:
            part.amount_sent_msat = record.amount_sent_msat or part.amount_sent_msat
            part.status = "pending"  # even a "complete" answer (a resend of a settled part): the watcher reads it
            part.started = self._clock()
            self._queue_part(part, PartSent, retry_of=part.retry_of)

    def _mark_unknown(self, part: _Part, error: NodeError | None) -> None:
        """The answer was lost (or the node is gone before we sent): the part is settled by asking the node."""
        with self._lock:
            part.status = "unknown"
            if error is not None:
                part.down_since = self._clock()
                self._queue_part(
                    part,
                    NodeUnreachableEvent,
                    message=f"{error.message}; the part may or may not have been sent: the node is asked once back.",
                    attempt=1,
                    retry_in=self.backoff_initial_s,
                )

    def _send_refused(self, part: _Part, error: NodeError) -> None:
        code = error.code
        if code in (PAY_TRY_OTHER_ROUTE, PAY_DESTINATION_PERM_FAIL) and error.data:
            # sendpay itself failed the first hop (e.g. "No connection to first peer found").
            self._routing_failure(part, error, at_sendpay=True)
            return
        if code == PAY_IN_PROGRESS:
            message = f"Another attempt at this payment is in flight on the node: {error.message}"
        elif code == PAY_RHASH_ALREADY_USED:
            message = f"The node has already used this payment hash: {error.message}"
        elif code == INVALID_PARAMS:
            message = f"The node refused the part's parameters: {error.message}"
        else:
            message = f"sendpay failed: {error.message}" + (f" (code {code})" if code is not None else "")
        self._fail(part, message, status="not_sent", code=code)

    def _first_hop_mismatch(self, failure: RoutingFailure, route: Route | None) -> str | None:
        """Whether sendpay's own failure at erring_index 0 with no erring_channel ("No connection to first peer
        found") comes from a route whose first hop names another node than the peer of our channel: then the
        channel is fine, and the route is what is wrong."""
        if route is None or failure.erring_index != 0 or failure.erring_channel is not None:
            return None
        first = route.hops[0]
        try:
            peers = [c.peer_id for c in self.node.listpeerchannels() if c.short_channel_id == first.short_channel_id]
        except NodeError:
            return None
        if not peers or first.node_id in peers:
            return None
        named = first.alias or self._alias(first.node_id) or _short_id(first.node_id)
        peer = self._alias(peers[0]) or _short_id(peers[0])
        return f"the route's first hop names {named} but channel {first.short_channel_id} leads to {peer}."

    def _fail(
        self,
        part: _Part,
        message: str,
        *,
        status: str = "failed",
        failure: RoutingFailure | None = None,
        explanation: FailureExplanation | None = None,
        code: int | None = None,
        retryable: bool = False,
        final: bool = False,
    ) -> None:
        """Record that ``part`` failed (or was ``not_sent``), note what retries should avoid, queue PartFailed."""
        with self._lock:
            part.status = status
            part.failure = failure
            part.explanation = explanation
            part.code = code
            part.message = message
            part.retryable = retryable
            part.final = final
            if final:
                self._final_reason = self._final_reason or message
            elif explanation is not None:
                self._excluded_nodes.update(
                    (node_id, None) for node_id in explanation.exclude_nodes if node_id != self.target.destination
                )
                self._excluded_channels.update((channel, None) for channel in explanation.exclude_channels)
            self._queue_part(
                part,
                PartFailed,
                failure=failure,
                explanation=explanation,
                code=code,
                message=message,
                retryable=retryable,
                final=final,
            )

    def _routing_failure(self, part: _Part, error: NodeError, *, at_sendpay: bool = False) -> None:
        """A 203/204 (from waitsendpay, or from sendpay itself): explained, judged final or retryable.

        Final: the destination refused the payment itself. ``mpp_timeout`` is the exception: the payee only
        gave up waiting for the other parts, so this part's amount may go again, with the others, in a new
        group (the explainer, which sees one part, says STOP "for this part alone").
        """
        failure = RoutingFailure.from_data(error.data)
        explanation = explain(failure, part.route, error.code, aliases=self._erring_alias(failure, part.route))
        final, retryable, message = explanation.final, explanation.retryable, explanation.summary
        if failure.failcode == _MPP_TIMEOUT and error.code != PAY_DESTINATION_PERM_FAIL:
            final, retryable, message = False, True, _MPP_TIMEOUT_MESSAGE
        if at_sendpay:
            mismatch = self._first_hop_mismatch(failure, part.route)
            if mismatch is not None:  # our channel is fine: the route is what is wrong
                advice = "Retry on a route whose first hop is the channel's peer."
                message, explanation = mismatch, replace(explanation, exclusions=(), advice=advice)
            message = f"sendpay refused the first hop: {message}"
        self._fail(
            part, message, failure=failure, explanation=explanation, code=error.code, retryable=retryable, final=final
        )

    def _erring_alias(self, failure: RoutingFailure, route: Route | None) -> dict[str, str]:
        """The erring node's alias when the route does not give it (attached parts have no route)."""
        node_id = failure.erring_node
        if (
            not node_id
            or failure.erring_index == 0
            or any(hop.node_id == node_id and hop.alias for hop in (route.hops if route else ()))
        ):
            return {}
        alias = self._alias(node_id)
        return {node_id: alias} if alias else {}

    def _alias(self, node_id: str) -> str:
        """``listnodes <id>``, once per node ('' when gossip or the node does not say)."""
        try:
            return self._aliases.alias(node_id)
        except NodeUnreachable:
            return ""
        except NodeError:  # a node that refuses listnodes: don't ask again
            self._aliases.remember(node_id, "")
            return ""

    # -- watching ----------------------------------------------------------------------------------------------

    def _start_thread(self, part: _Part, *, read_failure: bool = False) -> None:
        with self._lock:
            stop = self._stop
            if part.watch_stop is stop:
                return
            part.watch_stop = stop
        thread = threading.Thread(
            target=self._run_part,
            args=(part, stop, read_failure),
            name=f"lnconsole-watch-{self.target.payment_hash[:8]}-{part.groupid}-{part.partid}",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _run_part(self, part: _Part, stop: threading.Event, read_failure: bool) -> None:
        try:
            if part.status == "unknown" and not self._recover(part, stop):
                return
            if part.status in IN_FLIGHT or read_failure:
                self._watch(part, stop)
        except Exception:  # never let a watcher die silently: the part stays in view, marked unknown
            log.exception("watcher for part %s failed", part.key)
            with self._lock:
                self._queue_part(part, PartProblem, code=None, message="The watcher stopped on an internal error.")
            self._deliver()
        finally:
            with self._lock:
                if part.watch_stop is stop:
                    part.watch_stop = None
        if part.status == "failed" and not stop.is_set():
            self._after_failure(part)
        elif not stop.is_set():
            self._settle()

    def _recover(self, part: _Part, stop: threading.Event) -> bool:
        """After a lost sendpay answer: wait for the node, then watch the part if it has it, else send it.

        Returns True when the part is now in flight (to be watched).
        """
        backoff = _Backoff(self.backoff_initial_s, self.backoff_cap_s)
        while not stop.is_set():
            try:
                records = self.node.listsendpays(payment_hash=self.target.payment_hash)
            except NodeError as error:
                self._trouble(part, error, backoff)
                backoff.sleep(stop)
                continue
            self._reachable(part)
            if stop.is_set():
                return False
            if any(record.groupid == part.groupid and record.partid == part.partid for record in records):
                with self._lock:
                    part.status = "pending"
                return True
            found = classify(self.target.payment_hash, records)
            if isinstance(found, AlreadyPaid):
                self._fail(part, "Not sent: the payment completed meanwhile.", status="not_sent")
                self._adopt_paid(found)
                return False
            # The node never got it: send it now, with the same (groupid, partid).
            self._send(part)
            self._deliver()
            if part.status != "unknown":
                return part.status == "pending"
            with self._lock:
                if part.down_since is None:
                    part.down_since = self._clock()
            backoff.sleep(stop)
        return False

    def _watch(self, part: _Part, stop: threading.Event) -> None:
        """Poll ``waitsendpay`` with a short timeout until the part settles or the session stops."""
        backoff = _Backoff(self.backoff_initial_s, self.backoff_cap_s)
        last_pending = self._clock()
        while not stop.is_set():
            began = time.monotonic()
            try:
                record = self.node.waitsendpay(
                    self.target.payment_hash, timeout=self.poll_timeout_s, partid=part.partid, groupid=part.groupid
                )
            except NodeError as error:
                if stop.is_set():
                    return
                if error.code in (
                    PAY_TRY_OTHER_ROUTE,
                    PAY_DESTINATION_PERM_FAIL,
                    PAY_UNPARSEABLE_ONION,
                    PAY_NO_SUCH_PAYMENT,
                ):
                    self._reachable(part)
                    self._failed(part, error)
                    return
                if error.code != PAY_IN_PROGRESS:
                    self._trouble(part, error, backoff)
                    backoff.sleep(stop)
                    continue
                self._reachable(part)
                backoff.reset()
                now = self._clock()
                if now - last_pending >= self.pending_interval_s:
                    last_pending = now
                    with self._lock:
                        self._queue_part(part, PartPending)
                    self._deliver()
                # A node that answers "still pending" at once must not make us spin.
                rest = self.poll_timeout_s - (time.monotonic() - began)
                if rest > 0.05:
                    stop.wait(rest)
                continue
            if stop.is_set():
                return
            self._reachable(part)
            if record.status == "complete":
                self._completed(part, record)
                return
            with self._lock:  # a "result" that is not complete: unexpected, keep asking
                self._queue_part(
                    part, PartProblem, code=None, message=f"waitsendpay answered status {record.status!r}."
                )
            self._deliver()
            backoff.sleep(stop)

    def _completed(self, part: _Part, record: SendPayment) -> None:
        preimage = record.payment_preimage or ""
        verified = _preimage_matches(preimage, self.target.payment_hash)
        with self._lock:
            part.status = "complete"
            part.preimage = preimage
            part.preimage_verified = verified
            part.amount_sent_msat = record.amount_sent_msat or part.amount_sent_msat
            if not verified:
                part.message = "The node reported a preimage that does not hash to the payment hash."
            self._queue_part(part, PartComplete, preimage=preimage, preimage_verified=verified)
        self._deliver()

    def _failed(self, part: _Part, error: NodeError) -> None:
        """waitsendpay's verdict on a part: 203/204 (explained), 202 (unreadable) or 208 (no such part)."""
        code = error.code
        if code in (PAY_TRY_OTHER_ROUTE, PAY_DESTINATION_PERM_FAIL):
            self._routing_failure(part, error)
        elif code == PAY_UNPARSEABLE_ONION:
            message = f"A node on the route sent back a failure that cannot be read ({error.message})."
            self._fail(part, message, code=code, retryable=True)
        else:
            message = f"The node has no record of this part ({error.message})."
            self._fail(part, message, code=code, retryable=part.route is not None)
        self._deliver()

    def _trouble(self, part: _Part, error: NodeError, backoff: _Backoff) -> None:
        """The node is unreachable (NodeUnreachableEvent) or answered something unexpected (PartProblem)."""
        if not isinstance(error, NodeUnreachable):
            self._reachable(part)
        with self._lock:
            if not isinstance(error, NodeUnreachable):
                self._queue_part(part, PartProblem, code=error.code, message=error.message)
            else:
                if part.down_since is None:
                    part.down_since = self._clock()
                backoff.attempts += 1
                self._queue_part(
                    part, NodeUnreachableEvent, message=error.message, attempt=backoff.attempts, retry_in=backoff.delay
                )
        self._deliver()

    def _reachable(self, part: _Part) -> None:
        with self._lock:
            if part.down_since is None:
                return
            down_for = self._clock() - part.down_since
            part.down_since = None
            self._queue_part(part, NodeReachable, down_for=down_for)
        self._deliver()

    # -- the payment as a whole --------------------------------------------------------------------------------

    def _settle(self) -> None:
        """Emit PaymentComplete / PaymentFailed when the parts' states call for it."""
        while self._ask_for_the_rest():
            pass
        with self._lock:
            parts = list(self._parts.values())
            live = [part for part in parts if part.status in IN_FLIGHT or self._retry_coming(part)]
            complete = [part for part in parts if part.status == "complete"]
            if complete:
                if live or self._asking or isinstance(self._outcome, PaymentComplete):
                    return
                verified = [part for part in complete if part.preimage_verified]
                if verified:
                    amount = sum(part.amount_msat for part in complete)
                    sent = sum(part.amount_sent_msat for part in complete)
                    preimage = verified[0].preimage or ""
                    self._emit_complete(complete[0].groupid, preimage, amount, sent, len(complete), False)
                else:
                    self._final_reason = self._final_reason or complete[0].message
            failed = any(part.status in ("failed", "not_sent") for part in parts)
            if self._outcome is None and (self._final_reason is not None or (failed and not live)):
                retryable = (
                    ()
                    if self._final_reason is not None
                    else tuple(
                        part.key
                        for part in parts
                        if part.status == "failed" and part.retryable and part.retried_by is None
                    )
                )
                self._set_outcome(
                    PaymentFailed(
                        payment_hash=self.target.payment_hash,
                        groupid=self._groupid or 0,
                        elapsed=self._elapsed(),
                        reason=self._final_reason or self._failure_summary(parts, retryable),
                        final=not retryable,
                        retryable_parts=retryable,
                        in_flight=len(live),
                    )
                )
        self._deliver()

    def _ask_for_the_rest(self) -> bool:
        """When the complete parts this session knows carry less than the total (another console sent the rest),
        ask the node once for the group's parts: complete ones are counted, pending ones watched. True if asked."""
        with self._lock:
            complete = [part for part in self._parts.values() if part.status == "complete"]
            keys = frozenset(part.key for part in complete)
            if (
                not complete
                or self._asking
                or keys == self._asked_for
                or isinstance(self._outcome, PaymentComplete)
                or sum(part.amount_msat for part in complete) >= self.target.amount_msat
                or any(part.status in IN_FLIGHT for part in self._parts.values())
            ):
                return False
            self._asked_for = keys
            self._asking = True
            groupid = complete[0].groupid
        try:
            records = self.node.listsendpays(payment_hash=self.target.payment_hash)
        except NodeError:
            records = []  # the node is away: the payment is complete all the same, with the parts we know
        try:
            self._adopt(
                [r for r in records if r.groupid == groupid and r.status in ("complete", "pending")], watch=("pending",)
            )
        finally:
            with self._lock:
                self._asking = False
        return True

    def _failure_summary(self, parts: list[_Part], retryable: tuple[tuple[int, int], ...]) -> str:
        failed = [part for part in parts if part.status in ("failed", "not_sent") and part.retried_by is None]
        details = "; ".join(f"part {part.partid}: {part.message}" for part in failed[-3:])
        if retryable:
            keys = ", ".join(str(key[1]) for key in retryable)
            return f"Nothing is in flight and the payment is not complete ({details}). Parts {keys} can be retried."
        return f"The payment cannot complete ({details})."

    # -- events ------------------------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self._clock() - (self._started if self._started is not None else self._clock())

    def _emit_complete(
        self, groupid: int, preimage: str, amount: int, sent: int, parts: int, already_paid: bool
    ) -> None:
        self._set_outcome(
            PaymentComplete(
                payment_hash=self.target.payment_hash,
                groupid=groupid,
                elapsed=self._elapsed(),
                preimage=preimage,
                amount_msat=amount,
                amount_sent_msat=sent,
                fee_msat=sent - amount,
                parts=parts,
                already_paid=already_paid,
            )
        )

    def _set_outcome(self, event: PaymentComplete | PaymentFailed) -> None:
        self._queue.append(event)
        self._outcome = event
        self._changed.notify_all()

    def _queue_part(self, part: _Part, cls: type[PartEvent], **extra: Any) -> None:
        self._queue.append(
            cls(
                payment_hash=self.target.payment_hash,
                groupid=part.groupid,
                elapsed=self._clock() - part.started,
                partid=part.partid,
                amount_msat=part.amount_msat,
                amount_sent_msat=part.amount_sent_msat,
                route=part.route,
                status=part.status,
                **extra,
            )
        )

    def _deliver(self) -> None:
        """Hand queued events to ``on_event`` in order, one at a time (never while holding the state lock)."""
        with self._emit_lock:
            while True:
                with self._lock:
                    if not self._queue:
                        return
                    event = self._queue.popleft()
                    self._history.append(event)
                if self._on_event is not None:
                    try:
                        self._on_event(event)
                    except Exception:  # a screen's bug must not stop the payment's watcher
                        log.exception("on_event failed for %s", type(event).__name__)

    # -- helpers -----------------------------------------------------------------------------------------------

    def _find_part(self, partid: int, groupid: int | None) -> _Part:
        matches = [part for part in self._parts.values() if part.partid == partid]
        if groupid is not None:
            matches = [part for part in matches if part.groupid == groupid]
        if not matches:
            where = f" in group {groupid}" if groupid is not None else ""
            raise RetryRefused(f"This payment has no part {partid}{where}.")
        return max(matches, key=lambda part: part.groupid)

    def _view(self, part: _Part) -> PartView:
        return PartView(
            payment_hash=self.target.payment_hash,
            groupid=part.groupid,
            partid=part.partid,
            amount_msat=part.amount_msat,
            amount_sent_msat=part.amount_sent_msat,
            route=part.route,
            status=part.status,
            preimage=part.preimage,
            failure=part.failure,
            explanation=part.explanation,
            code=part.code,
            message=part.message,
            retryable=part.retryable and part.retried_by is None,
            retry_of=part.retry_of,
            retried_by=part.retried_by,
        )


@dataclass
class _Backoff:
    """Capped exponential backoff between attempts to reach the node."""

    initial: float
    cap: float
    delay: float = 0.0
    attempts: int = 0

    def __post_init__(self) -> None:
        self.delay = self.initial

    def sleep(self, stop: threading.Event) -> None:
        """Wait the current delay (or until the session stops), then double it."""
        stop.wait(self.delay)
        self.delay = min(self.cap, self.delay * 2)

    def reset(self) -> None:
        self.delay = self.initial
        self.attempts = 0


def _preimage_matches(preimage: str, payment_hash: str) -> bool:
    try:
        return hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == payment_hash.lower()
    except ValueError:
        return False


def _short_id(node_id: str) -> str:
    return f"{node_id[:12]}…" if len(node_id) > 12 else node_id


__all__ = [
    "AlreadyLaunched",
    "AlreadyPaid",
    "DuplicatePart",
    "Fresh",
    "LaunchResult",
    "NodeReachable",
    "NodeUnreachableEvent",
    "PartAttached",
    "PartComplete",
    "PartEvent",
    "PartFailed",
    "PartPending",
    "PartProblem",
    "PartSent",
    "PartView",
    "PaymentComplete",
    "PaymentError",
    "PaymentEvent",
    "PaymentFailed",
    "PaymentSession",
    "Pending",
    "Preflight",
    "RetryPolicy",
    "RetryRefused",
    "classify",
    "preflight",
]
