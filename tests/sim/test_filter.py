"""The reply ``filter`` every lightningd command takes (common/json_filter.c), as the simulator serves it.

The cases of CLN's own tests (tests/test_misc.py ``test_field_filter``, common/test/run-json_stream-filter.c) on the
simulator's answers, through pyln-client's ``call(method, payload, filter=...)`` as the console sends it, and on
the recorded lightningd answers of ``shared/cln/transcripts`` through the same writer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lnconsole.sim.filter import apply_filter, parse_filter
from tests.conftest import RunningSim
from tests.sim.helpers import exchange, recorded, rpc_error

ENDS = {"channels": [{"short_channel_id": True, "direction": True, "destination": True}]}


def filtered(result: dict[str, Any], reply_filter: Any) -> dict[str, Any]:
    return apply_filter(parse_filter(reply_filter), result)


def test_listchannels_keeps_only_the_fields_named(regtest: RunningSim) -> None:
    source = regtest.alias("A")
    full = regtest.rpc.listchannels(source=source)["channels"]
    answer = regtest.rpc.call("listchannels", {"source": source}, filter=ENDS)
    assert answer == {
        "channels": [
            {"short_channel_id": c["short_channel_id"], "direction": c["direction"], "destination": c["destination"]}
            for c in full
        ]
    }
    assert len(full) == 2 and list(answer["channels"][0]) == ["destination", "short_channel_id", "direction"]


def test_decode_cases_of_lightningd_own_test(regtest: RunningSim) -> None:
    """test_misc.py test_field_filter, on an invoice with no fallbacks (so ``fallbacks`` is absent)."""
    bolt11 = regtest.rpc.invoice(123_000, "filter", "description")["bolt11"]
    decoded = regtest.rpc.decode(bolt11)
    assert regtest.rpc.call("decode", {"string": bolt11}, filter={"currency": True}) == {"currency": "bcrt"}
    both = regtest.rpc.call("decode", {"string": bolt11}, filter={"currency": True, "payment_hash": True})
    assert both == {"currency": "bcrt", "payment_hash": decoded["payment_hash"]}
    assert regtest.rpc.call("decode", {"string": bolt11}, filter={"foobar": True}) == {}


def test_misused_filters_keep_nothing_there_and_say_where() -> None:
    answer = {"currency": "bc", "fallbacks": [{"type": "P2WPKH", "addr": "x"}, {"type": "P2SH", "addr": "y"}]}
    assert filtered(answer, {"currency": True, "fallbacks": [{"type": True}]}) == {
        "currency": "bc",
        "fallbacks": [{"type": "P2WPKH"}, {"type": "P2SH"}],
    }
    # The array is written, each of its objects refused (test_field_filter checks only the warning).
    assert filtered(answer, {"currency": True, "fallbacks": {"type": True}}) == {
        "currency": "bc",
        "fallbacks": [],
        "warning_parameter_filter": ".fallbacks is an array",
    }
    assert filtered({"a": {"b": {"c": 1}, "d": 2}}, {"a": [{"b": True}]}) == {
        "a": {},
        "warning_parameter_filter": ".a is an object",
    }
    assert filtered({"a": {"d": 2}}, {"a": [{"b": True}]}) == {"a": {}}  # plain members are not a misuse
    # The first misuse in sorted member order is the one reported, with the path down to it.
    nested = {"z": [{"q": 1}], "y": {"x": [{"w": 1}]}}
    warning = filtered(nested, {"z": {"q": True}, "y": {"x": {"w": True}}})["warning_parameter_filter"]
    assert warning == ".y.x is an array"
    assert filtered(nested, {"z": {"q": True}})["warning_parameter_filter"] == ".z is an array"


def test_the_writer_corner_cases_of_run_json_stream_filter() -> None:
    message = {"message": {"f1": "f1string", "f2": {"f2sub": "f2string"}, "f3": "f3string"}}
    assert filtered(message, {"message": {"f1": True, "f3": True}}) == {"message": {"f1": "f1string", "f3": "f3string"}}
    assert filtered(message, {"message": {"dne": True}}) == {"message": {}}
    messages = {"messages": [{"string": "string1", "other": 1}, {"string": "string2"}]}
    assert filtered(messages, {"messages": [{"string": True}]}) == {
        "messages": [{"string": "string1"}, {"string": "string2"}]
    }
    # ``true`` on an array keeps its elements whole; an array's plain values pass an object filter.
    assert filtered(messages, {"messages": True}) == messages
    assert filtered({"ids": ["a", "b"]}, {"ids": [{"x": True}]}) == {"ids": ["a", "b"]}
    # ``true`` entered as an object member: lightningd keeps that object's objects and arrays, not its plain members.
    assert filtered({"our_features": {"init": "08", "deep": {"k": 1}}}, {"our_features": True}) == {
        "our_features": {"deep": {"k": 1}}
    }
    # The empty filter keeps the result's objects and arrays and none of its plain members.
    assert filtered({"id": "02aa", "channels": [{"a": 1}]}, {}) == {"channels": [{"a": 1}]}


def test_recorded_lightningd_answers_filtered_as_the_console_asks() -> None:
    """Every recorded listchannels answer of the transcripts keeps the entries, each with the fields named."""
    for index in range(4):
        result = recorded("basics", "listchannels", index)["result"]
        answer = filtered(result, ENDS)
        assert [list(entry) for entry in answer["channels"]] == [
            ["destination", "short_channel_id", "direction"] for _ in result["channels"]
        ]
        assert [entry["short_channel_id"] for entry in answer["channels"]] == [
            entry["short_channel_id"] for entry in result["channels"]
        ]


@pytest.mark.parametrize(
    ("reply_filter", "message"),
    [
        ([{"channels": True}], "filter: Expected object: invalid token '[{\"channels\":true}]'"),
        ("channels", "filter: Expected object: invalid token '\"channels\"'"),
        ({"channels": False}, "filter: value must be true: invalid token 'false'"),
        ({"channels": 1}, "filter: value must be true: invalid token '1'"),
        ({"channels": [{"a": True}, {"b": True}]}, "filter: Arrays can only have one element: invalid token "),
        ({"channels": []}, "filter: Arrays can only have one element: invalid token '[]'"),
    ],
)
def test_malformed_filters_are_refused_before_the_command_runs(
    regtest: RunningSim, reply_filter: Any, message: str
) -> None:
    error = rpc_error(regtest.rpc.call, "listchannels", {"short_channel_id": "nonsense"}, filter=reply_filter)
    assert error["code"] == -32602 and error["message"].startswith(message)


def test_an_unknown_command_is_refused_before_its_filter_is_read(regtest: RunningSim) -> None:
    answers = exchange(
        regtest.socket_path,
        [
            {"method": "nosuchcommand", "params": {}, "filter": "bad"},
            {"method": "getinfo", "params": {}, "filter": None},
        ],
    )
    assert answers[0]["error"] == {"code": -32601, "message": "Unknown command 'nosuchcommand'"}
    assert answers[1]["error"]["code"] == -32602 and answers[1]["error"]["message"].startswith(
        "filter: Expected object"
    )


def test_errors_are_not_filtered(regtest: RunningSim) -> None:
    error = rpc_error(regtest.rpc.call, "listchannels", {"short_channel_id": "nonsense"}, filter={"channels": True})
    assert error == recorded("basics", "listchannels", 5)["error"]


def test_a_filter_is_a_tree_not_a_template() -> None:
    """Members the answer lacks are just absent; the same filter object serves answers of any length."""
    tree = json.loads(json.dumps(ENDS))
    assert filtered({"channels": []}, tree) == {"channels": []}
    assert filtered({"other": 1}, tree) == {}
