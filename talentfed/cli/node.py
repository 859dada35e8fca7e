"""Node commands: init, migrate, demo, serve, worker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from uvicorn.supervisors import Multiprocess

from talentfed.cli import web_process, worker_metrics
from talentfed.cli.context import CommandError, describe_schema, open_engine, transaction
from talentfed.config import ENV_PREFIX, Config, ConfigError, load_config, render_config
from talentfed.domain.analytics_runs import run_analytics
from talentfed.domain.demo import DEMO_PASSWORD, ensure_demo
from talentfed.domain.demo_neighbourhood import DEMO_DOMAINS, ensure_neighbourhood, remove_neighbourhood
from talentfed.domain.embeddings import embedder_for
from talentfed.domain.members import ensure_institution
from talentfed.federation.runtime import Federation
from talentfed.jobs.runner import QUEUES, Job, node_jobs, parse_queues, run_jobs
from talentfed.observability import logs
from talentfed.storage import migrate, process_roles
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

    demo = commands.add_parser(
        "demo",
        help="create the demo institution and its observed neighbourhood (idempotent)",
        description="Create the institution actor, three members, an article, a question with an "
        "answer and an open project call; and a neighbourhood of made-up researchers elsewhere "
        "(on .invalid domains, marked as demo data) with their posts and follows, then run the "
        "analytics once, so recommendations and rankings show at once. Running it again creates "
        "nothing twice.",
    )
    demo.add_argument(
        "--without-neighbourhood", action="store_true", help="only the institution and its members"
    )
    demo.add_argument(
        "--remove-neighbourhood",
        action="store_true",
        help="delete the demo neighbourhood (its actors, posts and follows) and nothing else",
    )
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser(
        "serve",
        help="run the web server",
        description="Serve HTTP until SIGINT or SIGTERM. One process runs the background jobs "
        "too (unless --no-jobs); with --workers N (PostgreSQL only) N processes share the port "
        "and run no jobs: run `talentfed worker` beside them.",
    )
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument("--port", type=int, help="override [server] port")
    serve.add_argument(
        "--workers", type=int, help="web processes sharing the port (override [server] workers)"
    )
    serve.add_argument(
        "--no-jobs", action="store_true", help="run no background jobs here (`talentfed worker` runs them)"
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run the background jobs (without the web server)",
        description="Run background jobs until SIGINT/SIGTERM: delivery (with the refresh of "
        "followed actors), the analytics refresh and, when scheduled, the crawl. On SIGTERM it "
        "stops claiming, lets deliveries in flight finish for [worker] drain_seconds and puts the "
        "rest back in the queue. Several may run at once, on any machine, on PostgreSQL.",
    )
    worker.add_argument(
        "--queues",
        default=",".join(QUEUES),
        help=f"comma-separated queues to work on (default: {','.join(QUEUES)})",
    )
    worker.add_argument(
        "--concurrency",
        "--count",  # its former name
        dest="concurrency",
        type=int,
        default=1,
        help="delivery loops in this process, each with up to 160 POSTs in flight (default 1)",
    )
    worker.add_argument(
        "--metrics-port", type=int, help="serve /metrics on this port (override [worker] metrics_port)"
    )
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
    with _sole_writer(config, "migrate"):
        asyncio.run(_migrate(config))
    print(f"database at revision {migrate.head_revision()}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.remove_neighbourhood:
        return _remove_demo_neighbourhood(config)

    async def run() -> dict[str, int]:
        async with transaction(config) as session:
            created = await ensure_demo(session, config)
            if not args.without_neighbourhood:
                created["neighbours"] = await ensure_neighbourhood(session)
        if not args.without_neighbourhood:  # what the pages show comes from a stored run
            async with transaction(config) as session:
                await run_analytics(session, config, embedder=embedder_for(config))
        return created

    created = asyncio.run(run())
    print(f"demo institution ready ({created['members']} members and {created['posts']} posts created)")
    if "neighbours" in created:
        print(
            f"demo neighbourhood ready ({created['neighbours']} made-up researchers created on "
            f"{', '.join(DEMO_DOMAINS)}); remove it with: talentfed demo --remove-neighbourhood"
        )
    print(f"sign in as ada (an admin), grace or alan with the password {DEMO_PASSWORD!r}")
    return 0


def _remove_demo_neighbourhood(config: Config) -> int:
    async def run() -> int:
        async with transaction(config) as session:
            removed = await remove_neighbourhood(session)
        async with transaction(config) as session:
            await run_analytics(session, config)  # so the pages stop showing them at once
        return removed

    print(f"demo neighbourhood removed ({asyncio.run(run())} actors with their posts and follows)")
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
    workers = config.server.workers if args.workers is None else args.workers
    if workers < 1:
        raise CommandError("--workers: expected 1 or more")
    process_roles.check_web_processes(config, workers)
    with _sole_writer(config, "serve"):
        asyncio.run(_check_ready(config))
        host = args.host or config.server.host
        port = args.port or config.server.port
        scheme = "https" if config.server.tls_certificate else "http"
        run_jobs = workers == 1 and config.server.run_jobs and not args.no_jobs
        logging.getLogger("talentfed").info(
            "serving %s on %s://%s:%d (%d web process%s, %s)",
            config.node.base_url,
            scheme,
            host,
            port,
            workers,
            "" if workers == 1 else "es",
            "with the background jobs" if run_jobs else "no background jobs: run `talentfed worker`",
        )
        settings = uvicorn.Config(
            create_app(config, run_workers=run_jobs) if workers == 1 else web_process.APP_FACTORY,
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            ssl_certfile=config.server.tls_certificate or None,
            ssl_keyfile=config.server.tls_private_key or None,
            proxy_headers=False,  # the app itself trusts [server] forwarded_allow_ips (web/caller.py)
            access_log=False,  # RequestLogMiddleware writes one line per request, with its id
            log_config=None,
            timeout_graceful_shutdown=10,
        )
        # uvicorn catches SIGINT/SIGTERM, drains requests and runs the lifespan shutdown, then
        # re-raises the signal to the handler that was there before it. A stop we asked for is
        # a normal end, so that handler does nothing and we exit 0.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: None)
        if workers > 1:
            _serve_in_processes(settings, config)
        else:
            _serve_here(settings)
    return 0


def _serve_here(settings: uvicorn.Config) -> None:
    listener = web_process.log_off_the_event_loop()
    web_process.freeze_what_lives_forever()
    try:
        uvicorn.Server(settings).run()
    finally:
        listener.stop()  # writes what is still queued


def _serve_in_processes(settings: uvicorn.Config, config: Config) -> None:
    """uvicorn's supervisor: one socket bound here, accepted on by every process (the kernel
    hands each connection to one of them); it restarts a process that dies, and on SIGTERM
    stops them all, each draining its requests."""
    os.environ[ENV_PREFIX + "CONFIG"] = str(Path(config.source).resolve())
    Multiprocess(settings, sockets=[settings.bind_socket()]).run()


@contextlib.contextmanager
def _sole_writer(config: Config, role: str) -> Iterator[None]:
    try:
        with process_roles.sole_writer(config, role):
            yield
    except process_roles.DatabaseBusy as exc:
        raise CommandError(str(exc)) from None


async def _check_ready(config: Config) -> None:
    """Refuse to serve an unreachable or unmigrated database; make sure the institution exists."""
    await _institution(config)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise CommandError("--concurrency: expected 1 or more")
    try:
        queues = parse_queues(args.queues)
    except ValueError as exc:
        raise CommandError(f"--queues: {exc}") from None
    config = load_config(args.config)
    if args.metrics_port is not None:
        if not 1 <= args.metrics_port <= 65535:
            raise CommandError("--metrics-port: expected a port number from 1 to 65535")
        config = dataclasses.replace(
            config, worker=dataclasses.replace(config.worker, metrics_port=args.metrics_port)
        )
    logs.configure(config.log.level, config.log.format)
    with _sole_writer(config, "worker"):
        try:
            asyncio.run(_work(config, queues, args.concurrency))
        except worker_metrics.MetricsPortUnusable as exc:
            raise CommandError(str(exc)) from None
    return 0


def worker_jobs(
    config: Config,
    sessions: async_sessionmaker[AsyncSession],
    federation: Federation,
    count: int,
    queues: frozenset[str] = frozenset(QUEUES),
) -> list[Job]:
    """The jobs of `talentfed worker`: those of `queues`, with `count` delivery loops."""
    return node_jobs(config, sessions, federation, delivery_workers=count, queues=queues)


async def _work(config: Config, queues: frozenset[str], count: int) -> None:
    engine = await open_engine(config)
    sessions = session_factory(engine)
    federation = await Federation.open(config, sessions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        async with worker_metrics.serving(config, federation):
            jobs = worker_jobs(config, sessions, federation, count, queues)
            logging.getLogger("talentfed").info("running jobs: %s", ", ".join(job.name for job in jobs))
            await run_jobs(jobs, stop)
    finally:
        await federation.close()
        await engine.dispose()
