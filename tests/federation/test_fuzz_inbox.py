"""Fuzzing the inbox (issue 12, "Proof"): mutated real documents, validly signed, on both back-ends.

Each input is a real activity, object or actor from `../shared/fixtures`, re-homed so that it
passes the signature and origin checks (its actor is alice of a loopback server, its ids live
there), then mutated the way a hostile or broken server would: values of another JSON type,
deep nesting, any unicode (NUL and lone surrogates included), huge and non-finite numbers,
arrays of 10^5, long strings, non-http links, another activity type. It is signed by alice and
POSTed to the shared or a personal inbox. Whatever comes in, the node must answer below 500
and log no error and no traceback.

The number of inputs per back-end is `TALENTFED_FUZZ_EXAMPLES` (CI-sized by default; `make fuzz`
runs the long campaign and docs/reliability.md records what it ran).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpcore
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.fixtures_path import fixture

# About 100 inputs a second: the default keeps each back-end's run under a minute.
EXAMPLES = int(os.environ.get("TALENTFED_FUZZ_EXAMPLES", "3000"))
SUMMARY = os.environ.get("TALENTFED_FUZZ_SUMMARY")  # a JSON-lines file `make fuzz` reads
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"
ACTIVITY_TYPES = [
    "Create", "Update", "Delete", "Announce", "Like", "Follow", "Undo", "Accept", "Reject",
    "Add", "Remove", "Block", "Move", "Flag", "EmojiReact", "Question", "Note", "Person",
]  # fmt: skip
RAW_TOKENS = [
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "1" + "0" * 30,
    "9" * 5000, "123456789012345678", "1.7976931348623157e308",
]  # fmt: skip
BAD_LINKS = ["javascript:alert(1)", "data:text/html,x", "JAVASCRIPT:x", " https://x", "//x.example/a", ""]


def _documents(kind: str) -> list[dict]:
    found = []
    for path in sorted(Path(fixture(kind)).glob("*.json")):
        try:
            document = json.loads(path.read_text("utf-8"))
        except ValueError:
            continue
        if isinstance(document, dict):
            found.append(document)
    return found


OBJECTS = _documents("objects")
ACTORS = _documents("actors")


# --- re-homing: a fixture as alice's own activity -----------------------------------------------


def _rehome(document: dict, alice: RemoteUser, object_slot: int, kind: str) -> dict:
    """`document` as an activity of alice's, its ids on alice's server (so it is not refused
    for its origin: the fuzzing is meant to reach the handlers)."""
    base = alice.server.base
    document = json.loads(json.dumps(document))
    if kind == "actor":
        document.update(id=alice.uri, publicKey=alice.document()["publicKey"], inbox=alice.inbox)
        return {"@context": AS, "type": "Update", "actor": alice.uri, "object": document}
    if "actor" not in document:  # an object, not an activity: carried by a Create
        document = {"@context": AS, "type": "Create", "actor": alice.uri, "object": document}
    document["actor"] = alice.uri
    obj = document.get("object")
    if isinstance(obj, dict):
        obj["id"] = f"{base}/objects/{object_slot}"
        if "attributedTo" in obj or "content" in obj:
            obj["attributedTo"] = alice.uri
    elif isinstance(obj, str):
        document["object"] = f"{base}/objects/{object_slot}"
    return document


# --- mutations ------------------------------------------------------------------------------


def _slots(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a document a mutation can write to, as paths of keys and indexes."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _slots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            found += _slots(item, (*path, index))
    return found


def _put(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


class Raw:
    """Text to put into the JSON as is (numbers Python cannot dump, nesting it cannot build)."""

    def __init__(self, text: str) -> None:
        self.text = text


any_text = st.text(st.characters(codec=None, categories=None), max_size=40)  # NUL, surrogates too
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def replacement(draw: st.DrawFn, current: Any) -> Any:
    """What to put where `current` was."""
    how = draw(
        st.sampled_from(
            ["type", "text", "raw", "deep", "wide", "long", "link", "activity", "wrap", "value", "drop"]
        )
    )
    if how == "type":  # the same slot, another JSON type
        return draw(st.sampled_from([None, True, 0, -1, 2.5, "", "x", [], {}, [current], {"id": current}]))
    if how == "text":
        return draw(any_text)
    if how == "raw":
        return Raw(draw(st.sampled_from(RAW_TOKENS)))
    if how == "deep":
        depth = draw(st.sampled_from([8, 31, 32, 33, 100, 5000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return Raw(opener * depth + "1" + closer * depth)
    if how == "wide":
        size = draw(st.sampled_from([199, 201, 1000, 1001, 100_000]))
        item = draw(st.sampled_from(["1", '"x"', '{"type":"Hashtag","name":"#a"}', "[]"]))
        return Raw("[" + ",".join([item] * size) + "]")
    if how == "long":
        size = draw(st.sampled_from([33, 256, 2049, 3000, 100_001, 262_145]))
        return draw(st.sampled_from(["x", "\u00e9", "\U0001f600", "<"])) * size
    if how == "link":
        return draw(st.sampled_from(BAD_LINKS))
    if how == "activity":
        return draw(st.sampled_from(ACTIVITY_TYPES))
    if how == "wrap":
        return draw(st.sampled_from([[current], {"type": "Link", "href": current}, {"id": current}]))
    if how == "value":
        return draw(json_values)
    return _DROP


_DROP = object()


def _encode(document: Any) -> bytes:
    """JSON, with each Raw put in as is."""
    raws: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x01raw{len(raws) - 1}\x01"
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    text = json.dumps(swap(document))
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x01raw{index}\x01"), raw)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_activities(draw: st.DrawFn, alice: RemoteUser) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["object"] * 4 + ["actor"]))
    source = draw(st.sampled_from(OBJECTS if kind == "object" else ACTORS))
    document = _rehome(source, alice, draw(st.integers(0, 15)), kind)
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(_slots(document)))
        if path == ():
            continue  # the whole document replaced: tested by test_inbox's malformed bodies
        current = _get(document, path)
        new = draw(replacement(current))
        if new is _DROP:
            _parent(document, path).pop(path[-1])
        else:
            _put(document, path, new)
    if isinstance(document, dict):
        document["id"] = alice.server.activity_id(uuid.uuid4().hex)  # each input applies once
        if kind == "actor" and isinstance(document.get("object"), dict):
            # alice's key stays hers, or every later input would stop at the signature (401)
            document["object"]["publicKey"] = alice.document()["publicKey"]
    inbox = draw(st.sampled_from(["/inbox", "/users/bob/inbox", "/users/carol/inbox"]))
    return inbox, _encode(document)


def _get(document: Any, path: tuple) -> Any:
    for step in path:
        document = document[step]
    return document


def _parent(document: Any, path: tuple) -> Any:
    return _get(document, path[:-1])


# --- the campaign -------------------------------------------------------------------------------


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


async def _no_dns(host: str, port: int) -> list[str]:
    """Only the loopback server exists: a fixture's other hosts fail at once, never the Internet."""
    if host == "127.0.0.1":
        return [host]
    raise httpcore.ConnectError(f"{host} is not resolved in the fuzz tests")


def _problems(records: list[logging.LogRecord]) -> list[str]:
    return [
        f"{r.levelname} {r.name}: {r.getMessage()[:300]}"
        for r in records
        if r.levelno >= logging.ERROR or (r.exc_info and r.levelno >= logging.WARNING)
    ]


async def test_hostile_activities_never_get_a_5xx(
    node: Node, remote: RemoteServer, alice: RemoteUser, caplog: pytest.LogCaptureFixture, request
) -> None:
    node.federation.fetcher.backend._resolve = _no_dns
    caplog.set_level(logging.WARNING)
    statuses: dict[int, int] = {}
    started = time.perf_counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one_input(data: st.DataObject) -> None:
        path, body = data.draw(hostile_activities(alice), label="input")
        first = len(caplog.records)
        response = asyncio.run_coroutine_threadsafe(node.post(path, body, alice), loop).result()
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, response.text, body[:2000])
        assert not _problems(caplog.records[first:]), (_problems(caplog.records[first:]), body[:2000])
        del caplog.records[first:]  # the log of thousands of inputs is not kept

    # Hypothesis drives the inputs from a thread; the node keeps running on this loop.
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(one_input)
    seconds = time.perf_counter() - started
    backend = request.node.callspec.id if hasattr(request.node, "callspec") else "?"
    line = {"backend": backend, "inputs": sum(statuses.values()), "seconds": round(seconds, 1)}
    line["statuses"] = dict(sorted(statuses.items()))
    print("fuzz", json.dumps(line))
    if SUMMARY:
        await asyncio.to_thread(_append, Path(SUMMARY), json.dumps(line) + "\n")
    assert sum(statuses.values()) >= EXAMPLES * 0.9  # hypothesis ran what was asked
    assert sum(n for s, n in statuses.items() if s == 202) > 0  # some inputs reached the handlers
