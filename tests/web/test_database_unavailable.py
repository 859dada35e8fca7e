"""While the database is unreachable the node answers 503 with Retry-After (pages, ActivityPub
documents, the inbox), never a 500, and it serves again by itself once the database is back.

PostgreSQL only: the shared server is put out of reach by cutting a proxy in front of it
(tests/support/tcp_proxy.py); stopping a real cluster is `make prove`'s faults_postgres."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from talentfed.config import load_config
from talentfed.storage.db import create_engine, is_unavailable
from talentfed.web.database_unavailable import DATABASE_RETRY_AFTER
from tests.support import write_config
from tests.support.demo_app import demo_app_client
from tests.support.tcp_proxy import CuttableProxy

AP = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}
# The reads `make prove`'s load scenario makes: actor, profile page, WebFinger, outbox.
PATHS = (
    ("/users/ada", AP),
    ("/@ada", HTML),
    ("/.well-known/webfinger?resource=acct:ada@{domain}", {}),
    ("/users/ada/outbox", AP),
)


async def _answers(client: httpx.AsyncClient, domain: str, inbox_of: str) -> list[httpx.Response]:
    answers = [await client.get(path.format(domain=domain), headers=headers) for path, headers in PATHS]
    answers.append(
        # A personal inbox looks its member up first (each phase another member: the inbox
        # remembers those it has found); the body is refused (400) once it can.
        await client.post(
            f"/users/{inbox_of}/inbox",
            content=b'{"type": "Create"}',
            headers={"Content-Type": "application/activity+json"},
        )
    )
    # An app's call: the rate limits look its token up in a middleware, before any route runs.
    bearer = {"Authorization": "Bearer not-a-token"}
    answers.append(await client.get("/api/v1/accounts/verify_credentials", headers=bearer))
    return answers


async def test_503_with_retry_after_while_postgresql_is_out_of_reach_then_recovers(
    tmp_path, fresh_database
) -> None:
    direct = make_url(fresh_database("postgresql"))
    proxy = CuttableProxy(direct.port or 5432)
    await proxy.restore()
    url = direct.set(port=proxy.port).render_as_string(hide_password=False)
    config = load_config(write_config(tmp_path, url), environ={})
    engine = create_engine(url)
    try:
        async with demo_app_client(config, engine) as client:
            before = await _answers(client, config.node.domain, "ada")
            await proxy.cut()
            during = await _answers(client, config.node.domain, "grace")
            await proxy.restore()
            after = await _answers(client, config.node.domain, "alan")
    finally:
        await proxy.cut()
        await engine.dispose()

    assert [r.status_code for r in before] == [200] * len(PATHS) + [400, 401]
    assert [r.status_code for r in during] == [503] * (len(PATHS) + 2), [r.text[:200] for r in during]
    assert all(r.headers["retry-after"] == str(DATABASE_RETRY_AFTER) for r in during)
    assert during[0].json() == {"error": "the database is unavailable; try again later"}
    assert [r.status_code for r in after] == [r.status_code for r in before]


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P03", True),  # the database system is starting up, or shutting down
        ("57P01", True),  # terminating connection due to administrator command
        ("08006", True),  # connection failure
        ("53100", True),  # disk full
        ("23505", False),  # a unique key violated: a bug here, still a 500
        ("42P01", False),  # no such table
    ],
)
def test_which_driver_errors_mean_the_database_is_unavailable(sqlstate: str, unavailable: bool) -> None:
    wrapped = DBAPIError("SELECT 1", {}, _DriverError(sqlstate))
    assert is_unavailable(wrapped) is unavailable
