"""Interop tests: a talentfed node and an independent ActivityPub server (Fedify) on loopback.

Fixtures (module scope: one node and one peer for the tests of a module)
  tls_files   a self-signed certificate for 127.0.0.1 and its key (Fedify looks handles up
              over https only, so the node serves https itself)
  node        a running talentfed node in dev mode on https://127.0.0.1:PORT, with member ada
  peer        the Fedify peer (tests/interop/fedify_peer), trusting the node's certificate

The peer's npm packages (and the Node.js it runs on) are installed by `make test`
(tests/interop/npm_projects.py). Without them the tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.npm_projects import FEDIFY_PEER
from tests.interop.peer import FedifyPeer
from tests.multinode.nodes import Node
from tests.support import self_signed_certificate


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, tls_files: tuple[Path, Path]) -> Iterator[Node]:
    directory = tmp_path_factory.mktemp("interop-node")
    node = Node("interop", directory, f"sqlite+aiosqlite:///{directory / 'talentfed.db'}", tls=tls_files)
    node.cli_ok("user", "add", "ada", "--display-name", "Ada Lovelace", "--skills", "NLP,Rust")
    node.cli_ok("user", "set", "ada", "--headline", "Analytical engines", "--open-to-collaboration", "true")
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory, tls_files: tuple[Path, Path]) -> Iterator[FedifyPeer]:
    FEDIFY_PEER.require()
    peer = FedifyPeer(tmp_path_factory.mktemp("fedify-peer"), trusted_certificate=tls_files[0])
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
