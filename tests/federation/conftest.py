"""Fixtures of the federation tests: a real remote server on loopback, and our node in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from tests.federation.local_node import Node, open_node
from tests.federation.remote_server import RemoteServer, RemoteUser


@pytest.fixture
async def remote() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
async def node(config: Config, engine: AsyncEngine) -> AsyncIterator[Node]:
    async with open_node(config, engine) as opened:
        yield opened


@pytest.fixture
def alice(remote: RemoteServer) -> RemoteUser:
    return remote.add_user("alice")
