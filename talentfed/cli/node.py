"""Node commands: init, migrate, demo, serve, worker."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import secrets
import signal
import ssl
from logging.handlers import QueueListener
from pathlib import Path
from queue import SimpleQueue

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.cli.context import CommandError, describe_schema, open_engine, transaction
from talentfed.config import Config, ConfigError, load_config, render_config
from talentfed.domain.demo import DEMO_PASSWORD, ensure_demo
from talentfed.domain.members import ensure_institution
from talentfed.federation.runtime import Federation
from talentfed.jobs.runner import Job, node_jobs, run_jobs
from talentfed.observability import logs
from talentfed.storage import migrate
from talentfed.storage.db import session_factory
from talentfed.web.app import create_app

TEMPLATE = Path(__file__).resolve().parents[1] / "config.example.toml"


def register(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser(
        "init",
        help="write a configuration, create the database and the institution actor",
        description="Write config.toml for DOMAIN, migrate the database and create the "
        "institution's actor with its key pair.",
    )
    init.add_argument("--domain", required=True, help="the domain in handles, e.g. uni.example")
    init.add_argument("--base-url", help="public URL (default: https://DOMAIN, or http:// with --dev-mode)")
    init.add_argument("--name", help="the institution's name")
    init.add_argument("--database-url", help="SQLAlchemy database URL (default: SQLite under ./data/)")
    init.add_argument(
        "--dev-mode", action="store_true", help="allow http and loopback addresses (testing only)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing configuration file")
    init.set_defaults(handler=cmd_init)

    migrate_command = commands.add_parser(
        "migrate", help="bring the database schema up to date", description="Apply pending migrations."
    )
    migrate_command.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when migrations are pending (for deploy scripts and upgrades)",
    )
    migrate_command.set_defaults(handler=cmd_migrate)

    commands.add_parser(
        "demo",
        help="create the demo institution (idempotent)",
        description="Create the institution actor, three members, an article, a question with an "
        "answer and an open project call. Running it again creates nothing twice.",
    ).set_defaults(handler=cmd_demo)

    serve = commands.add_parser(
        "serve", help="run the web server", description="Serve HTTP until SIGINT or SIGTERM."
    )
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument("--port", type=int, help="override [server] port")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run the background jobs (without the web server)",
        description="Run the background jobs until SIGINT/SIGTERM: delivery, the refresh of "
        "followed actors, the analytics refresh and, when scheduled, the crawl. Several may run "
        "at once on PostgreSQL.",
    )
    worker.add_argument("--count", type=int, default=1, help="delivery workers in this process (default 1)")
    worker.set_defaults(handler=cmd_worker)


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if path.exists() and not args.force:
        raise CommandError(f"{path} already exists (use --force to overwrite it)")
    scheme = "http" if args.dev_mode else "https"
    values = {
        ("node", "domain"): args.domain,
        ("node", "base_url"): args.base_url or f"{scheme}://{args.domain}",
        ("federation", "dev_mode"): bool(args.dev_mode),
        ("web", "session_secret"): secrets.token_urlsafe(48),
    }
    if args.name:
        values[("node", "name")] = args.name
    if args.database_url:
        values[("database", "url")] = args.database_url
    text = render_config(TEMPLATE.read_text(), values)
    candidate = path.with_name(path.name + ".new")
    candidate.write_text(text)
    try:
        load_config(candidate, environ={})  # validate before replacing anything
    except Exception:
        candidate.unlink()
        raise
    candidate.replace(path)
    config = load_config(path)
    asyncio.run(_migrate(config))
    asyncio.run(_institution(config))
    handle = f"@{config.node.institution_username}@{config.node.domain}"
    print(f"wrote {path}; database ready; institution actor {handle}")
    return 0


async def _migrate(config: Config) -> None:
    engine = await open_engine(config, require_schema=False)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _schema_state(config: Config) -> migrate.SchemaState:
    engine = await open_engine(config, require_schema=False)
    try:
        return await migrate.schema_state(engine)
    finally:
        await engine.dispose()


async def _institution(config: Config) -> None:
    async with transaction(config) as session:
        await ensure_institution(session, config)


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.check:
        state = asyncio.run(_schema_state(config))
        print(describe_schema(state))
        if state.pending and state.current is not None:
            print(f"pending: {', '.join(state.pending)}; run `talentfed migrate`")
        return 0 if state.up_to_date else 1
    asyncio.run(_migrate(config))
    print(f"database at revision {migrate.head_revision()}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run() -> dict[str, int]:
        async with transaction(config) as session:
            return await ensure_demo(session, config)

    created = asyncio.run(run())
    print(f"demo institution ready ({created['members']} members and {created['posts']} posts created)")
    print(f"sign in as ada (an admin), grace or alan with the password {DEMO_PASSWORD!r}")
    return 0


def _check_tls_files(config: Config) -> None:
    """Load the certificate and key once, so that a wrong path or pair is one line, not a traceback."""
    certificate, key = config.server.tls_certificate, config.server.tls_private_key
    if not certificate:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key)
    except OSError as exc:  # ssl.SSLError is one too
        reason = exc.strerror or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(
            config.source, "[server] tls_certificate", f"cannot use {certificate} with {key}: {reason}"
        ) from None


def cmd_serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    logs.configure(config.log.level, config.log.format)
    _check_tls_files(config)
    asyncio.run(_check_ready(config))
    host = args.host or config.server.host
    port = args.port or config.server.port
    scheme = "https" if config.server.tls_certificate else "http"
    logging.getLogger("talentfed").info("serving %s on %s://%s:%d", config.node.base_url, scheme, host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            ssl_certfile=config.server.tls_certificate or None,
            ssl_keyfile=config.server.tls_private_key or None,
            proxy_headers=False,  # the app itself trusts [server] forwarded_allow_ips (web/caller.py)
            access_log=False,  # RequestLogMiddleware writes one line per request, with its id
            log_config=None,
            timeout_graceful_shutdown=10,
        )
    )
    # uvicorn catches SIGINT/SIGTERM, drains requests and runs the lifespan shutdown, then
    # re-raises the signal to the handler that was there before it. A stop we asked for is
    # a normal end, so that handler does nothing and we exit 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    listener = _log_off_the_event_loop()
    # What is imported and built by now lives as long as the process. Moved out of the
    # collector's reach, it is no longer rescanned by every full collection, which otherwise
    # paused a request for 60-90 ms (the home timeline's p99; docs/benchmarks.md section 3).
    gc.freeze()
    try:
        server.run()
    finally:
        listener.stop()  # writes what is still queued
    return 0


def _log_off_the_event_loop() -> QueueListener:
    """Log lines are formatted and written by a thread; the event loop only queues them.

    Every request logs a line, and formatting its time and writing it cost the event loop
    about 8 % of an inbox POST (docs/benchmarks.md).
    """
    root = logging.getLogger()
    queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
    listener = QueueListener(queue, *root.handlers, respect_handler_level=True)
    root.handlers = [logs.RecordQueueHandler(queue)]
    listener.start()
    return listener


async def _check_ready(config: Config) -> None:
    """Refuse to serve an unreachable or unmigrated database; make sure the institution exists."""
    await _institution(config)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise CommandError("--count: expected 1 or more")
    config = load_config(args.config)
    logs.configure(config.log.level, config.log.format)
    asyncio.run(_work(config, args.count))
    return 0


def worker_jobs(
    config: Config, sessions: async_sessionmaker[AsyncSession], federation: Federation, count: int
) -> list[Job]:
    """The jobs of `talentfed worker`: the same as `serve` runs, with `count` delivery workers."""
    return node_jobs(config, sessions, federation, delivery_workers=count)


async def _work(config: Config, count: int) -> None:
    engine = await open_engine(config)
    sessions = session_factory(engine)
    federation = await Federation.open(config, sessions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        jobs = worker_jobs(config, sessions, federation, count)
        logging.getLogger("talentfed").info("running jobs: %s", ", ".join(job.name for job in jobs))
        await run_jobs(jobs, stop)
    finally:
        await federation.close()
        await engine.dispose()
