"""The demo's stories: who its payees are, what each payment shows, and the paths it is about.

Plain data, standard library only: the console's ``--demo`` reads the payees and stories for its invoice picker
without importing the simulator, which runs in a child process (:mod:`lnconsole.sim.child`);
:mod:`lnconsole.sim.scenario_demo` builds the network that makes the stories true.
"""

from __future__ import annotations

from dataclasses import dataclass

_SAT = 1000

US = "console"
FLAKY_NODE = "lighthouse"
FLAKY_PPM = 150_000
"""lighthouse fails about one forward in seven with temporary_channel_failure."""

SPLIT_PAYEE = "big-merchant"
SPLIT_PATHS: tuple[tuple[str, ...], ...] = (
    (US, "gateway", SPLIT_PAYEE),
    (US, "summit", SPLIT_PAYEE),
    (US, "river", SPLIT_PAYEE),
)
"""Disjoint paths that together, and only together, carry big-merchant's invoice."""

CHEAP_LONG_PATH: tuple[str, ...] = (US, "river", "meadow", "waypoint", "harbor", "bookstore")
DEAR_SHORT_PATH: tuple[str, ...] = (US, "express", "bookstore")
FLAKY_PATH: tuple[str, ...] = (US, FLAKY_NODE, "coffee-shop")
FLAKY_FALLBACK_PATH: tuple[str, ...] = (US, "gateway", "coffee-shop")


@dataclass(frozen=True)
class DemoStory:
    """What paying one demo payee shows, for the console's demo screen and the README."""

    payee: str
    amount_msat: int
    title: str
    paths: tuple[tuple[str, ...], ...]
    """The paths (aliases, from us to the payee) the story is about."""
    text: str


DEMO_STORIES: tuple[DemoStory, ...] = (
    DemoStory(
        payee="coffee-shop",
        amount_msat=5_000 * _SAT,
        title="A flaky node on the cheapest path",
        paths=(FLAKY_PATH, FLAKY_FALLBACK_PATH),
        text=(
            "The cheapest route goes through lighthouse, which fails about one forward in seven with "
            "temporary_channel_failure; the payment then retries through gateway, which costs a few sat more."
        ),
    ),
    DemoStory(
        payee="bookstore",
        amount_msat=25_000 * _SAT,
        title="Cheap but long, or dear but short",
        paths=(CHEAP_LONG_PATH, DEAR_SHORT_PATH),
        text=(
            "Five hops through river, meadow, waypoint and harbor cost under a satoshi in fees but add "
            "up 132 blocks of CLTV delta; two hops through express cost 51 sat and 40 blocks."
        ),
    ),
    DemoStory(
        payee=SPLIT_PAYEE,
        amount_msat=2_000_000 * _SAT,
        title="Only a split pays it",
        paths=SPLIT_PATHS,
        text=(
            "No single path to big-merchant can carry 2,000,000 sat (its channels bring in at most "
            "1,500,000); three disjoint paths carry 4,200,000 together, so the payment goes out in parts."
        ),
    ),
)

DEMO_PAYEES: dict[str, int] = {story.payee: story.amount_msat for story in DEMO_STORIES}
"""Payee alias -> the amount (msat) of its typical invoice."""
