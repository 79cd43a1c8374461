"""The built-in networks: the demo's stories hold structurally, mainnet loads the real snapshot faithfully
(or a gossip_store, or a generated graph of its size and shape), and the server serves them."""

from __future__ import annotations

import gzip
import heapq
import itertools
import lzma
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bolt11
import pytest
from coincurve import PrivateKey
from pyln.client import RpcError

from lnconsole.sim.demo_stories import (
    CHEAP_LONG_PATH,
    DEAR_SHORT_PATH,
    DEMO_PAYEES,
    DEMO_STORIES,
    FLAKY_FALLBACK_PATH,
    FLAKY_NODE,
    FLAKY_PATH,
    SPLIT_PATHS,
    SPLIT_PAYEE,
    US,
)
from lnconsole.sim.invoices import InvoiceBook
from lnconsole.sim.mainnet import (
    MAINNET_BLOCKHEIGHT,
    MAINNET_CHANNELS,
    MAINNET_NODES,
    OUR_PEERS,
    US_ALIAS,
    PublicGraph,
    assemble,
    generate_public_graph,
    made_up_scid,
    node_map_path,
)
from lnconsole.sim.network import Channel, HalfChannel, Network
from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.scenario_demo import DEMO_BLOCKHEIGHT
from lnconsole.sim.scenarios import build_scenario, seeded_node
from tests.conftest import RunningSim
from tests.sim.helpers import MAINNET_SNAPSHOT

# --- paths, fees and bottlenecks, computed from the network alone -----------------------------------------


def usable(channel: Channel, direction: int) -> int:
    """What one HTLC can carry in this direction: the sender's spendable liquidity, capped by htlc_maximum."""
    half = channel.halves[direction]
    return min(half.spendable_msat, half.htlc_maximum_msat) if half.enabled else 0


def hops(node: SimNode, path: tuple[str, ...]) -> list[tuple[Channel, int]]:
    """The channel and direction of each hop of a path of aliases (the demo has no parallel channels)."""
    ids = [node.find_node(alias).node_id for alias in path]
    result = []
    for source, destination in itertools.pairwise(ids):
        (channel,) = node.network.channels_between(source, destination)
        result.append((channel, channel.direction_from(source)))
    return result


def amounts_along(node: SimNode, path: tuple[str, ...], amount_msat: int) -> list[int]:
    """What each hop's HTLC carries so that ``amount_msat`` arrives: each forwarder adds the fee of the
    channel it forwards onto (our own first hop costs us nothing)."""
    route = hops(node, path)
    amounts = [amount_msat]
    for channel, direction in reversed(route[1:]):
        amounts.insert(0, amounts[0] + channel.halves[direction].fee_for(amounts[0]))
    return amounts


def path_fee(node: SimNode, path: tuple[str, ...], amount_msat: int) -> int:
    return amounts_along(node, path, amount_msat)[0] - amount_msat


def carries(node: SimNode, path: tuple[str, ...], amount_msat: int) -> bool:
    route = hops(node, path)
    return all(
        channel.halves[direction].htlc_minimum_msat <= amount <= usable(channel, direction)
        for (channel, direction), amount in zip(route, amounts_along(node, path, amount_msat), strict=True)
    )


def most_deliverable(node: SimNode, path: tuple[str, ...]) -> int:
    """The largest amount one part along ``path`` can deliver, fees included."""
    low, high = 0, min(usable(channel, direction) for channel, direction in hops(node, path))
    while low < high:
        middle = (low + high + 1) // 2
        if carries(node, path, middle):
            low = middle
        else:
            high = middle - 1
    return low


def widest_path(network: Network, source: str, destination: str) -> int:
    """The largest bottleneck of any path (maximin over usable liquidity), by Dijkstra on bottlenecks."""
    best = {source: 1 << 62}
    queue = [(-best[source], source)]
    while queue:
        width, node_id = heapq.heappop(queue)
        width = -width
        if node_id == destination:
            return width
        if width < best.get(node_id, 0):
            continue
        for channel in network.channels_of(node_id):
            through = min(width, usable(channel, channel.direction_from(node_id)))
            peer = channel.peer_of(node_id)
            if through > best.get(peer, 0):
                best[peer] = through
                heapq.heappush(queue, (-through, peer))
    return 0


# --- demo ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> SimNode:
    return build_scenario("demo", SimConfig(seed=0))


def test_demo_has_a_dozen_readable_nodes_with_us_as_console(demo: SimNode) -> None:
    aliases = [node.alias for node in demo.network.nodes.values()]
    assert len(aliases) == 12
    assert len(set(aliases)) == 12
    assert {"coffee-shop", "bookstore", "big-merchant"} <= set(aliases)
    assert demo.us.alias == US == "console"
    assert demo.blockheight == DEMO_BLOCKHEIGHT == 120
    assert demo.network_name == "regtest"
    assert all(int(scid.split("x")[0]) + 6 <= demo.blockheight for scid in demo.network.channels)


def test_demo_keys_come_from_the_seed(demo: SimNode) -> None:
    again = build_scenario("demo", SimConfig(seed=0))
    other = build_scenario("demo", SimConfig(seed=1))
    assert sorted(again.network.nodes) == sorted(demo.network.nodes)
    assert set(other.network.nodes).isdisjoint(demo.network.nodes)
    assert sorted(n.alias for n in other.network.nodes.values()) == sorted(n.alias for n in demo.network.nodes.values())
    for node in demo.network.nodes.values():
        assert PrivateKey(node.secret_key).public_key.format().hex() == node.node_id


def test_demo_policies_and_capacities_look_like_mainnet(demo: SimNode) -> None:
    for channel, _, half in demo.network.halves():
        assert 1_000_000_000 <= channel.capacity_msat <= 10_000_000_000
        assert 0 <= half.base_fee_msat <= 1000
        assert 1 <= half.fee_ppm <= 2000
        assert 18 <= half.cltv_delta <= 144
        assert half.htlc_minimum_msat in (0, 1, 1000)
        assert half.htlc_maximum_msat == channel.capacity_msat * 99 // 100
        assert half.enabled
    for channel in demo.network.channels.values():
        assert channel.halves[0].balance_msat + channel.halves[1].balance_msat == channel.capacity_msat


def test_demo_split_payee_can_only_be_paid_by_splitting(demo: SimNode) -> None:
    amount = DEMO_PAYEES[SPLIT_PAYEE]
    payee = demo.find_node(SPLIT_PAYEE).node_id
    assert widest_path(demo.network, demo.our_id, payee) < amount
    scids = [{channel.short_channel_id for channel, _ in hops(demo, path)} for path in SPLIT_PATHS]
    assert sum(len(s) for s in scids) == len(set().union(*scids)), "the split paths share no channel"
    deliverable = [most_deliverable(demo, path) for path in SPLIT_PATHS]
    assert max(deliverable) < amount <= sum(deliverable)
    assert sum(sorted(deliverable)[-2:]) >= amount, "two parts suffice"


def test_demo_has_exactly_one_flaky_node_on_the_cheapest_way_to_coffee_shop(demo: SimNode) -> None:
    flaky = {node.alias: node.flaky_ppm for node in demo.network.nodes.values() if node.flaky_ppm}
    assert flaky == {FLAKY_NODE: 150_000}
    amount = DEMO_PAYEES["coffee-shop"]
    assert FLAKY_PATH[1] == FLAKY_NODE
    assert carries(demo, FLAKY_PATH, amount)
    assert carries(demo, FLAKY_FALLBACK_PATH, amount)
    assert path_fee(demo, FLAKY_PATH, amount) == 500
    assert path_fee(demo, FLAKY_FALLBACK_PATH, amount) == 3500


def test_demo_bookstore_has_a_cheap_long_and_a_dear_short_path(demo: SimNode) -> None:
    amount = DEMO_PAYEES["bookstore"]
    assert len(CHEAP_LONG_PATH) - 1 == 5
    assert len(DEAR_SHORT_PATH) - 1 == 2
    assert carries(demo, CHEAP_LONG_PATH, amount)
    assert carries(demo, DEAR_SHORT_PATH, amount)
    cheap, dear = path_fee(demo, CHEAP_LONG_PATH, amount), path_fee(demo, DEAR_SHORT_PATH, amount)
    assert cheap < 1000 < 50_000 < dear
    assert dear == 1000 + amount * 2000 // 1_000_000

    def cltv(path: tuple[str, ...]) -> int:
        return sum(channel.halves[direction].cltv_delta for channel, direction in hops(demo, path)[1:])

    assert (cltv(CHEAP_LONG_PATH), cltv(DEAR_SHORT_PATH)) == (132, 40)


def test_demo_stories_name_real_paths(demo: SimNode) -> None:
    assert DEMO_PAYEES == {"coffee-shop": 5_000_000, "bookstore": 25_000_000, "big-merchant": 2_000_000_000}
    for story in DEMO_STORIES:
        for path in story.paths:
            assert path[0] == US and path[-1] == story.payee
            assert len(hops(demo, path)) == len(path) - 1


def test_the_server_serves_the_demo(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("demo", hop_delay_ms=0)
    with pytest.raises(RpcError) as caught:
        sim.rpc.call("dev-sim-no-such-command", {})
    assert caught.value.error == {"code": -32601, "message": "Unknown command 'dev-sim-no-such-command'"}
    merchant = sim.alias(SPLIT_PAYEE)

    def invoice_from_the_merchant() -> str:
        book = sim.node.component(InvoiceBook)
        return book.create(merchant, amount_msat=DEMO_PAYEES[SPLIT_PAYEE], description="a big order").bolt11

    encoded = sim.on_loop(invoice_from_the_merchant)
    assert isinstance(encoded, str) and encoded.startswith("lnbcrt20m1")
    decoded = bolt11.decode(encoded)
    assert decoded.payee == merchant
    assert sim.node.us.alias == "console"


# --- mainnet: the compressed snapshot ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One channel as the snapshot stores it (checked by an independent reading of the file)."""

    index: int
    lower: str
    """Real id of the end the file's direction 0 leaves (the lower one)."""
    higher: str
    capacity_sat: int
    from_lower: tuple[int, int, int, int, int, bool]
    """base, ppm, CLTV delta, htlc_minimum, htlc_maximum (msat), enabled."""
    from_higher: tuple[int, int, int, int, int, bool]


ACINQ = "03864ef025fde8fb587d989186ce6a4a186895ee44a926bfc370e2c366597a3f8f"
SAMPLES = (
    # ACINQ is the first end in the file, yet its own policy (base 1000, CLTV delta 144) is direction 1.
    Sample(
        0,
        "024b9a1fa8e006f1e3937f65f66c408e6da8e1ca728ea43222a7381df1cc449605",
        ACINQ,
        9_093_802,
        (0, 11000, 34, 1, 4_092_210_000, True),
        (1000, 499, 144, 0, 1_000_000, True),
    ),
    # ACINQ's direction disabled (stored as zeros, htlc_maximum 0 = the capacity).
    Sample(
        121,
        "02d2e1b94cc1a38c715e50ee952f41487051b8652c93e63d12c6c4652e99932b5e",
        ACINQ,
        4_000_000,
        (1000, 5000, 100, 1000, 4_000_000_000, True),
        (0, 0, 0, 0, 4_000_000_000, False),
    ),
    # htlc_maximum stored as 1 (99% of the capacity) one way and 0 (the capacity) the other.
    Sample(
        3770,
        "0206db3b9c7475b246d380987bb77cf55acb65e2b0913b6e7d97063efd6d3d3d95",
        "0242a4ae0c5bef18048fbecf995094b74bfb0f7391418d71ed394784373f41e4f3",
        10_000_000,
        (2, 101, 80, 1, 9_900_000_000, True),
        (1000, 1, 80, 1000, 10_000_000_000, True),
    ),
    Sample(
        12345,
        "027100442c3b79f606f80f322d98d499eefcb060599efc5d4ecb00209c2cb54190",
        "03ae4b2ec2702284ad54d65d487da02d0d178d0dc533a4cf4e202f19411ab03dca",
        50_000_000,
        (0, 999, 144, 1, 45_000_000_000, True),
        (0, 10000, 80, 1000, 50_000_000_000, True),
    ),
    Sample(
        50807,
        "029e60ae4c8e0a4b06c05d2805ea79f06a4e9f0e36b1a201d9ae5aa6e0753caab5",
        "031601873d044363d796687b76ef1c2eb02deb303d73c85e4d1dc14bcebc9eb7e5",
        50_000,
        (0, 0, 0, 0, 50_000_000, False),
        (0, 0, 0, 0, 50_000_000, False),
    ),
)


def policy_of(half: HalfChannel) -> tuple[int, int, int, int, int, bool]:
    return (
        half.base_fee_msat,
        half.fee_ppm,
        half.cltv_delta,
        half.htlc_minimum_msat,
        half.htlc_maximum_msat,
        half.enabled,
    )


@pytest.fixture(scope="module")
def snapshot() -> SimNode:
    if not MAINNET_SNAPSHOT.exists() or not node_map_path(MAINNET_SNAPSHOT).exists():
        pytest.skip(
            f"the mainnet snapshot is not at {MAINNET_SNAPSHOT} (it lives in the shared folder beside the repo)"
        )
    return build_scenario("mainnet", SimConfig(seed=0), MAINNET_SNAPSHOT)


def test_snapshot_loads_every_node_and_channel(snapshot: SimNode) -> None:
    assert len(snapshot.network.nodes) == MAINNET_NODES + 1 == 17_325
    assert len(snapshot.network.channels) == MAINNET_CHANNELS + OUR_PEERS == 50_813
    assert all(made_up_scid(index) in snapshot.network.channels for index in range(MAINNET_CHANNELS))
    assert snapshot.blockheight == MAINNET_BLOCKHEIGHT
    disabled = sum(not half.enabled for _, _, half in snapshot.network.halves())
    assert disabled == 35_806


def test_snapshot_keeps_aliases_from_the_node_map(snapshot: SimNode) -> None:
    with lzma.open(node_map_path(MAINNET_SNAPSHOT), "rt", encoding="utf-8") as lines:
        expected = Counter(line.rstrip("\n").split(":", 2)[2] for line in lines if line.strip())
    expected[US_ALIAS] += 1
    assert Counter(node.alias for node in snapshot.network.nodes.values()) == expected
    assert expected["1ppm4EVA:-)"] == 1  # an alias with a colon survives the split
    acinq = snapshot.find_node("ACINQ")
    assert acinq.node_id == seeded_node(SimConfig(seed=0), f"mainnet:{ACINQ}").node_id


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"channel{sample.index}")
def test_snapshot_channel_policies_match_the_file(snapshot: SimNode, sample: Sample) -> None:
    config = SimConfig(seed=0)
    lower = seeded_node(config, f"mainnet:{sample.lower}").node_id
    higher = seeded_node(config, f"mainnet:{sample.higher}").node_id
    channel = snapshot.network.channels[made_up_scid(sample.index)]
    assert {channel.node1, channel.node2} == {lower, higher}
    assert channel.node1 < channel.node2
    assert channel.capacity_msat == sample.capacity_sat * 1000
    assert policy_of(channel.halves[channel.direction_from(lower)]) == sample.from_lower
    assert policy_of(channel.halves[channel.direction_from(higher)]) == sample.from_higher
    assert channel.halves[0].last_update == 1770076800  # 2026-02-03, the snapshot's date


def test_snapshot_nodes_keep_their_own_policies(snapshot: SimNode) -> None:
    """Read in the writer's direction order, most nodes gossip one CLTV delta on all their channels."""
    same = total = 0
    for node_id, channels in snapshot.network.by_node.items():
        deltas = Counter(
            half.cltv_delta for channel in channels if (half := channel.halves[channel.direction_from(node_id)]).enabled
        )
        if sum(deltas.values()) >= 2:
            same += deltas.most_common(1)[0][1]
            total += sum(deltas.values())
    assert same / total > 0.9


def test_snapshot_liquidity_is_a_seeded_split(snapshot: SimNode) -> None:
    shares = []
    for channel in snapshot.network.channels.values():
        first, second = channel.halves
        assert first.balance_msat + second.balance_msat == channel.capacity_msat
        assert first.inflight_msat == second.inflight_msat == 0
        shares.append(first.balance_msat / channel.capacity_msat)
    assert 0.45 < sum(shares) / len(shares) < 0.55
    assert sum(share < 0.1 for share in shares) > 4000 and sum(share > 0.9 for share in shares) > 4000


def test_we_have_channels_with_the_best_connected_nodes(snapshot: SimNode) -> None:
    assert snapshot.us.alias == US_ALIAS
    ours = snapshot.network.channels_of(snapshot.our_id)
    peers = {snapshot.network.nodes[channel.peer_of(snapshot.our_id)].alias for channel in ours}
    assert peers == {"ACINQ", "1ML.com node ALPHA", "CoinGate", "Kraken 🐙⚡", "WalletOfSatoshi.com"}
    for channel in ours:
        mine = channel.halves[channel.direction_from(snapshot.our_id)]
        theirs = channel.halves[1 - channel.direction_from(snapshot.our_id)]
        assert 0.6 <= mine.balance_msat / channel.capacity_msat <= 0.95
        assert (mine.base_fee_msat, mine.fee_ppm, mine.cltv_delta) == (1000, 10, 34)
        assert mine.enabled and theirs.enabled
        assert int(channel.short_channel_id.split("x")[0]) <= snapshot.blockheight - 6
    acinq = snapshot.find_node("ACINQ").node_id
    (with_acinq,) = snapshot.network.channels_between(snapshot.our_id, acinq)
    theirs = with_acinq.halves[with_acinq.direction_from(acinq)]
    assert (theirs.base_fee_msat, theirs.cltv_delta) == (1000, 144)  # ACINQ's usual policy


def test_graph_files_that_are_not_graphs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_scenario("mainnet", SimConfig(), tmp_path / "missing")
    bogus = tmp_path / "bogus.compressed"
    bogus.write_bytes(gzip.compress(b"NOT A GOSSMAP FILE"))
    (tmp_path / "bogus-node-map.xz").write_bytes(lzma.compress(b"0:02:alias\n"))
    with pytest.raises(ValueError, match="not a GOSSMAP_COMPRESSv1 file"):
        build_scenario("mainnet", SimConfig(), bogus)
    lonely = tmp_path / "lonely.compressed"
    lonely.write_bytes(bogus.read_bytes())
    with pytest.raises(ValueError, match=r"lonely-node-map\.xz should lie beside it"):
        build_scenario("mainnet", SimConfig(), lonely)


# --- mainnet: a CLN gossip_store ---------------------------------------------------------------------------


GOSSIP_STORE_COMPLETE = 0x2000
GOSSIP_STORE_DELETED = 0x8000
CHAIN_HASH = bytes(32)
SIGNATURE = bytes(64)


def _scid(text: str) -> int:
    block, tx, out = (int(part) for part in text.split("x"))
    return block << 40 | tx << 16 | out


def _record(message: bytes, flags: int = GOSSIP_STORE_COMPLETE, timestamp: int = 0) -> bytes:
    return struct.pack(">HHII", flags, len(message), zlib.crc32(message), timestamp) + message


def channel_announcement(scid: str, node_1: bytes, node_2: bytes) -> bytes:
    assert node_1 < node_2
    return (
        struct.pack(">H", 256)
        + SIGNATURE * 4
        + struct.pack(">H", 0)
        + CHAIN_HASH
        + struct.pack(">Q", _scid(scid))
        + node_1
        + node_2
        + node_1
        + node_2
    )


def channel_amount(satoshis: int) -> bytes:
    return struct.pack(">HQ", 4101, satoshis)


def channel_update(
    scid: str, direction: int, timestamp: int, policy: tuple[int, int, int, int, int], disabled: bool = False
) -> bytes:
    base, ppm, cltv, htlc_min, htlc_max = policy
    channel_flags = direction | (2 if disabled else 0)
    fields = (_scid(scid), timestamp, 1, channel_flags, cltv, htlc_min, base, ppm, htlc_max)
    return struct.pack(">H", 258) + SIGNATURE + CHAIN_HASH + struct.pack(">QIBBHQIIQ", *fields)


def node_announcement(node_id: bytes, alias: bytes, timestamp: int) -> bytes:
    return (
        struct.pack(">H", 257)
        + SIGNATURE
        + struct.pack(">H", 0)
        + struct.pack(">I", timestamp)
        + node_id
        + b"\x01\x02\x03"
        + alias.ljust(32, b"\0")
        + struct.pack(">H", 0)
    )


def write_gossip_store(path: Path, records: list[bytes]) -> None:
    """A gossip_store as lightningd writes it: a version byte, then records with a 12-byte header each."""
    path.write_bytes(bytes([16]) + b"".join(records))


@dataclass(frozen=True)
class StoreNode:
    alias: bytes
    key: bytes

    @property
    def node_id(self) -> bytes:
        return PrivateKey(self.key).public_key.format()


def store_nodes() -> dict[str, StoreNode]:
    names = [("alice", b"alice"), ("bob", b"bob \xe2\x9a\xa1"), ("carol", b"caf\xc3"), ("dave", b"")]
    return {name: StoreNode(alias, bytes([index + 1]) * 32) for index, (name, alias) in enumerate(names)}


@pytest.fixture
def gossip_store(tmp_path: Path) -> Iterator[tuple[Path, dict[str, StoreNode]]]:
    """Four nodes: alice-bob (both ways), bob-carol (carol's side disabled), carol-dave (dave never
    updated), a deleted channel, and carol's alias cut in the middle of a UTF-8 character."""
    nodes = store_nodes()

    def ends(a: str, b: str) -> tuple[str, str, bytes, bytes]:
        first, second = sorted([a, b], key=lambda name: nodes[name].node_id)
        return first, second, nodes[first].node_id, nodes[second].node_id

    records = []
    policies = {
        "alice": (1000, 10, 34, 0, 990_000_000),
        "bob": (0, 1, 80, 1000, 500_000_000),
        "carol": (5, 2500, 144, 1, 300_000_000),
    }
    for scid, (a, b), sats, skip_update_of, disable in (
        ("700000x1x0", ("alice", "bob"), 1_000_000, None, None),
        ("700100x2x1", ("bob", "carol"), 500_000, None, "carol"),
        ("700200x3x0", ("carol", "dave"), 300_000, "dave", None),
    ):
        first, second, id_1, id_2 = ends(a, b)
        records.append(_record(channel_announcement(scid, id_1, id_2)))
        records.append(_record(channel_amount(sats)))
        for direction, name in enumerate((first, second)):
            if name == skip_update_of:
                continue
            update = channel_update(scid, direction, 1_760_000_000 + direction, policies[name], name == disable)
            records.append(_record(update))
    _, _, id_1, id_2 = ends("alice", "dave")
    deleted = GOSSIP_STORE_COMPLETE | GOSSIP_STORE_DELETED  # lightningd marks a record deleted in place
    records.append(_record(channel_announcement("690000x9x0", id_1, id_2), flags=deleted))
    for name, node in nodes.items():
        if name != "dave":
            records.append(_record(node_announcement(node.node_id, node.alias, 1_760_000_100)))
    path = tmp_path / "gossip_store"
    write_gossip_store(path, records)
    yield path, nodes


def test_a_gossip_store_loads_with_real_scids_policies_and_aliases(
    gossip_store: tuple[Path, dict[str, StoreNode]],
) -> None:
    path, stored = gossip_store
    node = build_scenario("mainnet", SimConfig(seed=3), path)
    network = node.network
    assert len(network.nodes) == 5
    assert sorted(network.channels) == sorted(
        [
            "700000x1x0",
            "700100x2x1",
            "700200x3x0",
            *(channel.short_channel_id for channel in network.channels_of(node.our_id)),
        ]
    )
    assert node.blockheight == 700206
    aliases = {n.alias for n in network.nodes.values()}
    assert aliases == {"alice", "bob ⚡", "caf\ufffd", "", US_ALIAS}

    def synthetic(name: str) -> str:
        return seeded_node(SimConfig(seed=3), f"mainnet:{stored[name].node_id.hex()}").node_id

    def half_from(scid: str, name: str) -> HalfChannel:
        channel = network.channels[scid]
        return channel.halves[channel.direction_from(synthetic(name))]

    alice = half_from("700000x1x0", "alice")
    assert policy_of(alice) == (1000, 10, 34, 0, 990_000_000, True)
    assert alice.last_update in (1_760_000_000, 1_760_000_001)
    assert policy_of(half_from("700000x1x0", "bob")) == (0, 1, 80, 1000, 500_000_000, True)
    assert policy_of(half_from("700100x2x1", "carol")) == (5, 2500, 144, 1, 300_000_000, False)
    assert policy_of(half_from("700100x2x1", "bob"))[5] is True
    assert half_from("700200x3x0", "dave").enabled is False
    assert network.channels["700200x3x0"].capacity_msat == 300_000_000
    assert network.nodes[synthetic("alice")].last_timestamp == 1_760_000_100
    assert network.nodes[synthetic("dave")].last_timestamp == 0
    # We attach to the best connected (bob and carol: two channels each; then alice, dave).
    assert len(network.channels_of(node.our_id)) == 4


# --- mainnet: generated -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> SimNode:
    return build_scenario("mainnet", SimConfig(seed=0))


def fingerprint(graph: PublicGraph) -> list[tuple[object, ...]]:
    return [
        (c.a, c.b, c.short_channel_id, c.capacity_msat, policy_of(c.from_a), policy_of(c.from_b))
        for c in graph.channels
    ]


def test_generated_mainnet_has_the_snapshots_size(generated: SimNode) -> None:
    assert len(generated.network.nodes) == MAINNET_NODES + 1
    assert len(generated.network.channels) == MAINNET_CHANNELS + OUR_PEERS
    assert generated.us.alias == US_ALIAS
    assert all(channel.node1 < channel.node2 for channel in generated.network.channels.values())
    assert all(channel.node1 != channel.node2 for channel in generated.network.channels.values())


def test_generated_mainnet_has_the_snapshots_shape(generated: SimNode) -> None:
    network = generated.network
    degrees = sorted(len(network.channels_of(node_id)) for node_id in network.nodes if node_id != generated.our_id)
    nodes = len(degrees)
    assert abs(degrees.count(1) / nodes - 0.542) < 0.01  # the snapshot: 54.2% of nodes have one channel
    assert degrees[nodes // 2] == 1 and degrees[int(0.9 * nodes)] == 8 and 60 <= degrees[int(0.99 * nodes)] <= 90
    assert degrees[-1] > 1000
    halves = [half for _, _, half in network.halves()]
    enabled = [half for half in halves if half.enabled]
    assert 0.6 < len(enabled) / len(halves) < 0.7  # the snapshot: 64.8%
    capacities = sorted(channel.capacity_msat // 1000 for channel in network.channels.values())
    assert 900_000 < capacities[len(capacities) // 2] < 1_800_000  # the snapshot: 1,283,096 sat
    assert Counter(half.cltv_delta for half in enabled).most_common(1)[0][0] == 80
    assert 0.4 < sum(half.base_fee_msat == 0 for half in enabled) / len(enabled) < 0.5
    ppm = sorted(half.fee_ppm for half in enabled)
    assert 50 <= ppm[len(ppm) // 2] <= 200  # the snapshot: 100
    hub = max(network.nodes, key=lambda node_id: len(network.channels_of(node_id)))
    assert network.channels_between(generated.our_id, hub)


def test_generated_mainnet_repeats_per_seed_and_differs_across_seeds(generated: SimNode) -> None:
    first, again = generate_public_graph(5, nodes=2000, channels=6000), generate_public_graph(5, 2000, 6000)
    other = generate_public_graph(6, nodes=2000, channels=6000)
    assert fingerprint(first) == fingerprint(again)
    assert first.aliases == again.aliases
    assert fingerprint(first) != fingerprint(other)
    assert first.aliases != other.aliases
    rebuilt = build_scenario("mainnet", SimConfig(seed=0))
    assert sorted(rebuilt.network.nodes) == sorted(generated.network.nodes)
    assert balances(rebuilt) == balances(generated)
    small_0 = assemble(SimConfig(seed=0), generate_public_graph(0, nodes=300, channels=900))
    small_1 = assemble(SimConfig(seed=1), generate_public_graph(0, nodes=300, channels=900))
    assert set(small_0.network.nodes).isdisjoint(small_1.network.nodes)
    assert balances(small_0) != balances(small_1)


def balances(node: SimNode) -> dict[str, tuple[int, int]]:
    return {
        scid: (channel.halves[0].balance_msat, channel.halves[1].balance_msat)
        for scid, channel in node.network.channels.items()
    }
