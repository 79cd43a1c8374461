"""The simulator-only commands: invoices from any node, setting a channel direction, taking a node offline.

Their effects must show at once in the lightningd commands a console reads (decode, listchannels,
listpeerchannels, listpeers), and those answers must stay valid against CLN's schemas.
"""

from __future__ import annotations

import hashlib
from typing import Any

from lnconsole.sim.invoices import InvoiceBook
from lnconsole.sim.network import Node
from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import direction, rpc_error


def devsim(sim: RunningSim, command: str, **params: Any) -> dict[str, Any]:
    return sim.rpc.call(command, params)  # type: ignore[no-any-return]


def listchannels_entry(sim: RunningSim, scid: str, source: str) -> dict[str, Any]:
    entries = sim.rpc.listchannels(scid)["channels"]
    return next(entry for entry in entries if entry["source"] == sim.alias(source))


# ------------------------------------------------------------------------------------------------------------
# dev-sim-invoice


def test_dev_sim_invoice_from_another_node_by_alias(regtest: RunningSim) -> None:
    answer = devsim(regtest, "dev-sim-invoice", node="C", amount_msat=50_000_000, description="from C", expiry=600)
    assert list(answer) == ["bolt11", "payment_hash", "payment_secret", "payee", "label", "expires_at"]
    assert answer["payee"] == regtest.alias("C")
    assert answer["bolt11"].startswith("lnbcrt500u1")
    decoded = regtest.rpc.call("decode", {"string": answer["bolt11"]})
    assert_valid_response("decode", decoded)
    assert decoded["payee"] == regtest.alias("C")
    assert (decoded["amount_msat"], decoded["description"], decoded["expiry"]) == (50_000_000, "from C", 600)
    assert (decoded["payment_hash"], decoded["payment_secret"]) == (
        answer["payment_hash"],
        answer["payment_secret"],
    )
    assert decoded["created_at"] + 600 == answer["expires_at"]
    assert decoded["min_final_cltv_expiry"] == 10
    # As C's lightningd would: one route hint, through a peer that can pay C the whole amount.
    (hint,) = decoded["routes"]
    assert hint[0]["short_channel_id"] in {"103x2x0", "103x4x0", "103x6x0"}
    assert hint[0]["pubkey"] in {regtest.alias("B"), regtest.alias("D"), regtest.alias("E")}
    # The payee holds the preimage.
    invoice = regtest.node.component(InvoiceBook).find(regtest.alias("C"), answer["payment_hash"])
    assert invoice is not None
    assert hashlib.sha256(bytes.fromhex(invoice.preimage)).hexdigest() == answer["payment_hash"]


def test_dev_sim_invoice_hints_go_round_robin_when_no_channel_can_take_it_all(regtest: RunningSim) -> None:
    """C can receive 350k (from B), 297k (D, its htlc maximum) and 198k sat (E): 600k sat needs two of them,
    taken in lightningd's round-robin order, the used ones going to the back for the next invoice."""

    def hints(label: str) -> list[str]:
        answer = devsim(regtest, "dev-sim-invoice", node="C", amount_msat=600_000_000, label=label)
        routes = regtest.rpc.call("decode", {"string": answer["bolt11"]})["routes"]
        return [route[0]["short_channel_id"] for route in routes]

    assert hints("rr-1") == ["103x2x0", "103x4x0"]
    assert hints("rr-2") == ["103x6x0", "103x2x0", "103x4x0"]


def test_dev_sim_invoice_by_id_any_amount_and_labels(regtest: RunningSim) -> None:
    answer = devsim(regtest, "dev-sim-invoice", node=regtest.alias("E"), label="e-1")
    assert answer["label"] == "e-1"
    decoded = regtest.rpc.call("decode", {"string": answer["bolt11"]})
    assert "amount_msat" not in decoded and decoded["description"] == ""
    assert answer["expires_at"] == decoded["created_at"] + 604800
    assert rpc_error(lambda: devsim(regtest, "dev-sim-invoice", node="E", label="e-1")) == {
        "code": 900,
        "message": "Duplicate label 'e-1'",
    }
    # Labels are per node: C may use E's.
    assert devsim(regtest, "dev-sim-invoice", node="C", label="e-1")["payee"] == regtest.alias("C")


def test_dev_sim_invoice_errors(regtest: RunningSim) -> None:
    assert rpc_error(lambda: devsim(regtest, "dev-sim-invoice", node="Z")) == {
        "code": -32602,
        "message": "node: unknown node 'Z'",
    }
    assert rpc_error(lambda: devsim(regtest, "dev-sim-invoice")) == {
        "code": -32602,
        "message": "missing required parameter: node",
    }
    assert rpc_error(lambda: devsim(regtest, "dev-sim-invoice", node="C", amount_msat="lots")) == {
        "code": -32602,
        "message": "amount_msat: should be positive msat or 'any': invalid token '\"lots\"'",
    }
    # As invoice's amount: zero is no amount ("any" is how to ask for an invoice without one).
    assert rpc_error(lambda: devsim(regtest, "dev-sim-invoice", node="C", amount_msat=0)) == {
        "code": -32602,
        "message": "amount_msat: should be positive msat or 'any': invalid token '0'",
    }


# ------------------------------------------------------------------------------------------------------------
# dev-sim-channel


def test_dev_sim_channel_changes_show_in_listchannels_at_once(regtest: RunningSim) -> None:
    before = listchannels_entry(regtest, "103x4x0", "D")
    version = regtest.on_loop(lambda: regtest.node.network.gossip_version)
    answer = devsim(
        regtest,
        "dev-sim-channel",
        short_channel_id="103x4x0",
        direction=direction(regtest, "D", "C"),
        spendable_msat=100_000_000,
        base_fee_millisatoshi=5,
        fee_per_millionth=7,
        delay=9,
        htlc_minimum_msat=1000,
        htlc_maximum_msat=200_000_000,
        active=False,
    )
    after = listchannels_entry(regtest, "103x4x0", "D")
    assert answer == {**after, "spendable_msat": 100_000_000}
    assert_valid_response("listchannels", {"channels": [after]})
    assert (after["base_fee_millisatoshi"], after["fee_per_millionth"], after["delay"]) == (5, 7, 9)
    assert (after["htlc_minimum_msat"], after["htlc_maximum_msat"]) == (1000, 200_000_000)
    assert after["active"] is False
    assert after["channel_flags"] == after["direction"] | 2
    assert after["last_update"] > before["last_update"]
    assert regtest.on_loop(lambda: regtest.node.network.gossip_version) > version  # type: ignore[operator]
    # The other direction keeps its policy; its liquidity took the rest of the capacity.
    other = listchannels_entry(regtest, "103x4x0", "C")
    assert (other["base_fee_millisatoshi"], other["active"]) == (1, True)
    channel = regtest.node.network.channels["103x4x0"]
    assert channel.halves[1 - answer["direction"]].spendable_msat == 200_000_000


def test_dev_sim_channel_liquidity_alone_is_not_gossip(regtest: RunningSim) -> None:
    """Only a policy change is a channel_update; our route finders still see our new liquidity at once."""
    before = listchannels_entry(regtest, "103x1x0", "A")
    version = regtest.on_loop(lambda: regtest.node.network.gossip_version)
    route = regtest.rpc.getroute(regtest.alias("C"), 10_000_000, 1)["route"]
    assert [hop["channel"] for hop in route] == ["103x1x0", "103x2x0"]
    answer = devsim(
        regtest,
        "dev-sim-channel",
        short_channel_id="103x1x0",
        direction=direction(regtest, "A", "B"),
        spendable_msat=1_000_000,
    )
    assert answer == {**before, "spendable_msat": 1_000_000}
    assert listchannels_entry(regtest, "103x1x0", "A") == before
    assert regtest.on_loop(lambda: regtest.node.network.gossip_version) == version
    route = regtest.rpc.getroute(regtest.alias("C"), 10_000_000, 1)["route"]
    assert [hop["channel"] for hop in route] == ["103x3x0", "103x4x0"]


def test_dev_sim_channel_on_our_channel_shows_in_listpeerchannels(regtest: RunningSim) -> None:
    devsim(
        regtest,
        "dev-sim-channel",
        short_channel_id="103x1x0",
        direction=direction(regtest, "A", "B"),
        spendable_msat=400_000_000,
        fee_per_millionth=100,
    )
    channel = regtest.rpc.listpeerchannels(short_channel_id="103x1x0")["channels"][0]
    assert_valid_response("listpeerchannels", {"channels": [channel]})
    assert (channel["to_us_msat"], channel["spendable_msat"], channel["receivable_msat"]) == (
        400_000_000,
        400_000_000,
        600_000_000,
    )
    assert channel["updates"]["local"]["fee_proportional_millionths"] == 100
    assert channel["fee_proportional_millionths"] == 100
    assert channel["updates"]["remote"]["fee_proportional_millionths"] == 10
    # The peer's side, set through its direction.
    devsim(
        regtest,
        "dev-sim-channel",
        short_channel_id="103x1x0",
        direction=direction(regtest, "B", "A"),
        spendable_msat=0,
    )
    channel = regtest.rpc.listpeerchannels(short_channel_id="103x1x0")["channels"][0]
    assert (channel["spendable_msat"], channel["receivable_msat"]) == (1_000_000_000, 0)


def test_dev_sim_channel_counts_htlcs_in_flight(regtest: RunningSim) -> None:
    toward_c = direction(regtest, "D", "C")

    def reserve() -> None:
        regtest.node.network.channels["103x4x0"].halves[toward_c].inflight_msat = 50_000_000

    regtest.on_loop(reserve)
    answer = devsim(
        regtest, "dev-sim-channel", short_channel_id="103x4x0", direction=toward_c, spendable_msat=200_000_000
    )
    half = regtest.node.network.channels["103x4x0"].halves[toward_c]
    assert (answer["spendable_msat"], half.balance_msat, half.inflight_msat) == (
        200_000_000,
        250_000_000,
        50_000_000,
    )
    assert regtest.node.network.channels["103x4x0"].halves[1 - toward_c].balance_msat == 50_000_000
    # Capacity 300k sat less the 50k sat in flight is the most that can be spendable.
    assert rpc_error(
        lambda: devsim(
            regtest,
            "dev-sim-channel",
            short_channel_id="103x4x0",
            direction=toward_c,
            spendable_msat=250_000_001,
        )
    ) == {
        "code": -32602,
        "message": "spendable_msat: should be at most 250000000msat "
        "(capacity 300000000msat less 50000000msat in flight): invalid token '250000001'",
    }


def test_dev_sim_channel_errors_change_nothing(regtest: RunningSim) -> None:
    before = regtest.rpc.listchannels("103x5x0")
    cases = [
        ({"short_channel_id": "103x9x0", "direction": 0}, "short_channel_id: unknown channel '103x9x0'"),
        ({"short_channel_id": "103x5x0", "direction": 2}, "direction: should be 0 or 1: invalid token '2'"),
        (
            {
                "short_channel_id": "103x5x0",
                "direction": 0,
                "spendable_msat": 600_000_000,
                "fee_per_millionth": 1,
            },
            "spendable_msat: should be at most 500000000msat (capacity 500000000msat less 0msat in flight): "
            "invalid token '600000000'",
        ),
        (
            {"short_channel_id": "103x5x0", "direction": 0, "htlc_maximum_msat": 500_000_001},
            "htlc_maximum_msat: should be at most the capacity 500000000msat: invalid token '500000001'",
        ),
        (
            {"short_channel_id": "103x5x0", "direction": 1, "htlc_minimum_msat": 495_000_001},
            "htlc_minimum_msat: should not exceed htlc_maximum_msat 495000000msat: invalid token '495000001'",
        ),
        (
            {"short_channel_id": "103x5x0", "direction": 0, "delay": 70000},
            "delay: should be an unsigned 16 bit integer: invalid token '70000'",
        ),
        (
            {"short_channel_id": "103x5x0", "direction": 0, "active": "maybe"},
            "active: should be 'true' or 'false': invalid token '\"maybe\"'",
        ),
        ({"short_channel_id": "103x5x0"}, "missing required parameter: direction"),
    ]
    for params, message in cases:
        assert rpc_error(lambda p=params: regtest.rpc.call("dev-sim-channel", p)) == {  # type: ignore[misc]
            "code": -32602,
            "message": message,
        }
    assert regtest.rpc.listchannels("103x5x0") == before


# ------------------------------------------------------------------------------------------------------------
# dev-sim-node


def test_dev_sim_node_takes_a_peer_offline_and_back(regtest: RunningSim) -> None:
    answer = devsim(regtest, "dev-sim-node", id="B", online=False)
    assert answer == {"id": regtest.alias("B"), "alias": "B", "online": False}
    peers = regtest.rpc.listpeers(regtest.alias("B"))
    assert_valid_response("listpeers", peers)
    assert peers["peers"][0]["connected"] is False
    assert "netaddr" not in peers["peers"][0]
    channel = regtest.rpc.listpeerchannels(regtest.alias("B"))
    assert_valid_response("listpeerchannels", channel)
    entry = channel["channels"][0]
    assert entry["peer_connected"] is False
    assert "reestablished" not in entry and "owner" not in entry
    assert regtest.on_loop(lambda: regtest.node.network.nodes[regtest.alias("B")].online) is False
    # Our invoices no longer hint at the offline peer.
    invoice = regtest.rpc.invoice(1000, "while-b-is-away", "d")
    routes = regtest.rpc.call("decode", {"string": invoice["bolt11"]}).get("routes", [])
    assert all(route[0]["pubkey"] != regtest.alias("B") for route in routes)

    devsim(regtest, "dev-sim-node", id=regtest.alias("B"), online=True)
    assert regtest.rpc.listpeers(regtest.alias("B"))["peers"][0]["connected"] is True
    assert regtest.rpc.listpeerchannels(regtest.alias("B"))["channels"][0]["reestablished"] is True


def test_offline_peer_capacity_warns_like_lightningd(regtest: RunningSim) -> None:
    """With inbound only through an offline peer, lightningd adds warning_offline."""
    devsim(
        regtest,
        "dev-sim-channel",
        short_channel_id="103x1x0",
        direction=direction(regtest, "B", "A"),
        spendable_msat=500_000_000,
    )
    devsim(regtest, "dev-sim-node", id="B", online=False)
    answer = regtest.rpc.invoice(100_000_000, "offline-inbound", "d")
    assert_valid_response("invoice", answer)
    assert answer["warning_offline"] == "Insufficient incoming capacity, once offline peers were excluded"
    assert "warning_capacity" not in answer


def test_an_alias_two_nodes_share_names_the_first_of_them(regtest: RunningSim) -> None:
    """Real graphs repeat aliases: a dev-sim command given one acts on the first node that has it."""
    b = regtest.alias("B")

    def share_alias_b() -> None:
        regtest.node.network.nodes[regtest.alias("E")].alias = "B"
        regtest.node.network.add_node(Node.from_seed(b"late", "B"))

    regtest.on_loop(share_alias_b)
    assert devsim(regtest, "dev-sim-node", id="B", online=False) == {"id": b, "alias": "B", "online": False}


def test_dev_sim_node_errors(regtest: RunningSim) -> None:
    assert rpc_error(lambda: devsim(regtest, "dev-sim-node", id="Z", online=False)) == {
        "code": -32602,
        "message": "id: unknown node 'Z'",
    }
    assert rpc_error(lambda: devsim(regtest, "dev-sim-node", id="A", online=False)) == {
        "code": -32602,
        "message": "id: A is our own node",
    }
    assert rpc_error(lambda: devsim(regtest, "dev-sim-node", id="B")) == {
        "code": -32602,
        "message": "missing required parameter: online",
    }


def test_dev_sim_commands_are_simulator_only_names(regtest: RunningSim) -> None:
    """Every simulator-only command is namespaced, so no real lightningd command can collide with it."""
    from lnconsole.sim.registry import COMMANDS

    ours = {"dev-sim-invoice", "dev-sim-channel", "dev-sim-node"}
    assert ours <= set(COMMANDS)
    assert all(name.startswith("dev-sim-") for name in COMMANDS if COMMANDS[name].handler.__module__.endswith("devsim"))
