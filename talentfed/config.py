"""Loading and validating the node's configuration.

The configuration is a TOML file whose sections and keys are declared once,
below, as frozen dataclasses. Every key may be overridden by an environment
variable `TALENTFED_<SECTION>_<KEY>`. Any problem is reported as a single
`ConfigError` naming where the value came from, the key and what was expected,
so the CLI can print one line and exit 2.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from talentfed.observability.logs import FORMATS as LOG_FORMATS

ENV_PREFIX = "TALENTFED_"
DEFAULT_CONFIG_PATH = "config.toml"


class ConfigError(Exception):
    """A configuration problem, phrased as one line for a human."""

    def __init__(self, source: str, key: str | None, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class NodeConfig:
    domain: str = "localhost"
    base_url: str = "https://localhost"
    name: str = "A talentfed node"
    summary: str = ""
    institution_username: str = "institution"
    admin_contact: str = ""
    # The member people can write to about this node (a local username), shown beside the e-mail.
    contact_account: str = ""
    # The node's rules, in order: shown on the home page, to apps and in NodeInfo (domain/node_about.py).
    rules: tuple[str, ...] = ()
    publish_peers: bool = False  # GET /api/v1/instance/peers lists the domains we know
    # /about lists the moderated servers with their public comments (as Mastodon's /about)
    publish_domain_blocks: bool = False


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str = "127.0.0.1"
    # Serve https directly (PEM files); both or neither. Behind a proxy that terminates TLS: neither.
    tls_certificate: str = ""
    tls_private_key: str = ""
    # Web processes sharing the port (uvicorn's multiprocess mode); more than 1 needs PostgreSQL.
    workers: int = 1
    # A single web process runs the background jobs too; several never do (`talentfed worker`).
    run_jobs: bool = True


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///./data/talentfed.db"
    pool_size: int = 10


@dataclass(frozen=True)
class FederationConfig:
    dev_mode: bool = False
    authorized_fetch: bool = False
    blocked_domains: tuple[str, ...] = ()
    # "open": every domain not blocked federates; "allowlist": only the domains allowed here or
    # on the admin page do (federation/blocks.py treats every other one as suspended).
    mode: str = "open"
    allowed_domains: tuple[str, ...] = ()
    connect_timeout: float = 5.0
    request_timeout: float = 15.0
    max_inbox_body_bytes: int = 1024 * 1024
    max_fetch_bytes: int = 1024 * 1024
    delivery_workers: int = 2
    retry_initial_delay: float = 30.0
    # How long a claimed delivery stays a worker's; a worker killed outright leaves its jobs
    # to the others this long after it claimed them.
    delivery_lease_seconds: float = 300.0
    crawl_interval_minutes: int = 0  # 0: no scheduled crawl, only `talentfed crawl`


@dataclass(frozen=True)
class AnalyticsConfig:
    interval_minutes: int = 60
    recompute_after_edges: int = 500


@dataclass(frozen=True)
class MatchingConfig:
    # How recommendations weigh their signals (domain/recommendations.py; each in [0, 1], the
    # weights are divided by their sum): words in common (TF-IDF cosine), meaning in common
    # (embedding cosine; only with the `semantic` extra), declared skills in common, and
    # followers in common in the observed graph.
    tfidf_weight: float = 0.45
    embedding_weight: float = 0.35
    skills_weight: float = 0.15
    graph_weight: float = 0.05
    # Embed profiles and posts with the local model when the `semantic` extra is installed.
    semantic: bool = True
    # Texts embedded per batch by the worker (a batch is one numpy forward pass).
    embed_batch: int = 64


@dataclass(frozen=True)
class WebConfig:
    # Signs session cookies. Empty: a random secret per start (everyone signs in again
    # after a restart); `talentfed init` writes one.
    session_secret: str = ""
    session_days: int = 14
    open_registrations: bool = False
    sign_in_attempts: int = 5  # failed sign-ins per address and per account ...
    sign_in_window_minutes: int = 15  # ... within this window, then 429
    invitation_days: int = 7


@dataclass(frozen=True)
class RateLimitsConfig:
    """Mastodon's limits on the client API (docs.joinmastodon.org/api/rate-limits), per window."""

    enabled: bool = True
    api_per_token: int = 300  # /api/v1, /api/v2 requests with a bearer token, per 5 minutes
    api_per_account: int = 1500  # ... with any of one account's tokens, per 5 minutes
    api_per_address: int = 300  # ... without one, per client address, per 5 minutes
    all_per_address: int = 7500  # every limited request of one address, per 5 minutes
    media_per_token: int = 30  # media uploads, per 30 minutes
    deletions_per_token: int = 30  # status deletions and unreblogs, per 30 minutes
    accounts_per_address: int = 5  # accounts created, per 30 minutes
    oauth_per_address: int = 30  # POST /oauth/token and /oauth/revoke, per 5 minutes
    max_keys: int = 100_000  # counters kept per limit; past it the oldest are forgotten


@dataclass(frozen=True)
class MediaConfig:
    # Uploaded pictures (avatars, headers, media attachments): domain/media.py.
    directory: str = "./data/media"  # relative to the configuration file, like the SQLite path
    max_image_bytes: int = 16 * 1024 * 1024  # as Mastodon's limit for images
    max_image_pixels: int = 33_177_600  # 7680 x 4320, Mastodon's image_matrix_limit


@dataclass(frozen=True)
class LogConfig:
    # The lines `talentfed serve` and `talentfed worker` write to stderr (observability/logs.py).
    level: str = "INFO"  # DEBUG, INFO, WARNING, ERROR or CRITICAL
    format: str = "text"  # text | json: one JSON object per line


@dataclass(frozen=True)
class MetricsConfig:
    # GET /metrics in Prometheus' format (web/metrics.py).
    enabled: bool = True
    # Empty: only scrapes from the loopback address (after [server] forwarded_allow_ips) are
    # answered. Set: scrapes from anywhere that send `Authorization: Bearer <token>`.
    token: str = ""


@dataclass(frozen=True)
class WorkerConfig:
    # `talentfed worker` (and the jobs inside a single `talentfed serve`).
    # On SIGTERM: stop claiming, let POSTs in flight finish this long, release the rest.
    drain_seconds: float = 30.0
    # Prometheus metrics of a `talentfed worker` on [server] host:<port>; 0: none.
    metrics_port: int = 0


@dataclass(frozen=True)
class CacheConfig:
    # Shared state of several processes (rate-limit counters). Empty: in the database
    # (PostgreSQL) or in the one process's memory (SQLite). redis://host:port/db: in Redis.
    url: str = ""


@dataclass(frozen=True)
class Config:
    node: NodeConfig = field(default_factory=NodeConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    web: WebConfig = field(default_factory=WebConfig)
    rate_limits: RateLimitsConfig = field(default_factory=RateLimitsConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    log: LogConfig = field(default_factory=LogConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    source: str = "<defaults>"

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


SECTIONS: dict[str, type] = {
    "node": NodeConfig,
    "server": ServerConfig,
    "database": DatabaseConfig,
    "federation": FederationConfig,
    "analytics": AnalyticsConfig,
    "matching": MatchingConfig,
    "web": WebConfig,
    "rate_limits": RateLimitsConfig,
    "media": MediaConfig,
    "log": LogConfig,
    "metrics": MetricsConfig,
    "worker": WorkerConfig,
    "cache": CacheConfig,
}


# --- value checks --------------------------------------------------------------------
# Each check receives the already type-converted value and returns it (possibly
# normalised) or raises ValueError whose text says what was expected.

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_USERNAME = re.compile(r"^[a-z0-9_]{1,30}$")


def check_domain(value: str) -> str:
    value = value.strip().lower()
    host, _, port = value.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"a domain name, optionally with :port, got {value!r}")
    try:
        ipaddress.ip_address(host)
        return value
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise ValueError(f"a domain name such as uni.example, got {value!r}")
    return value


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an http(s) URL such as https://uni.example, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a URL without query or fragment, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError(f"a URL with a valid port, got {value!r}") from None
    return value.rstrip("/")


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"a port number from 1 to 65535, got {value}")
    return value


def _check_positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"a number greater than 0, got {value}")
    return value


def _check_weight(value: float) -> float:
    if not 0 <= value <= 100:
        raise ValueError(f"a weight between 0 and 100, got {value}")
    return value


def _check_non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"a number of 0 or more, got {value}")
    return value


def _check_username(value: str) -> str:
    if not _USERNAME.match(value):
        raise ValueError(f"1-30 lowercase letters, digits or _, got {value!r}")
    return value


def _check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            "a database URL such as sqlite+aiosqlite:///./data/talentfed.db "
            f"or postgresql+asyncpg://user@host/db, got {value!r}"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        url = url.set(drivername="postgresql+asyncpg")
        if not url.database:
            raise ValueError(f"a PostgreSQL URL naming a database, got {value!r}")
    else:
        raise ValueError(f"a sqlite or postgresql URL, got a {backend!r} URL")
    return url.render_as_string(hide_password=False)


def _check_secret(value: str) -> str:
    if value and len(value) < 32:
        raise ValueError("a random string of at least 32 characters (or empty), got a shorter one")
    return value


def _check_directory(value: str) -> str:
    if not value.strip():
        raise ValueError("a directory path, got an empty string")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _check_log_level(value: str) -> str:
    if value.strip().upper() not in LOG_LEVELS:
        raise ValueError(f"one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.strip().upper()


def _check_log_format(value: str) -> str:
    if value not in LOG_FORMATS:
        raise ValueError(f"one of {', '.join(LOG_FORMATS)}, got {value!r}")
    return value


def _check_metrics_token(value: str) -> str:
    if value and (len(value) < 16 or any(c.isspace() for c in value)):
        raise ValueError("a random string of at least 16 characters without spaces (or empty)")
    return value


MAX_RULE_CHARS = 300  # Mastodon's limit on a rule's text


def _check_rules(value: tuple[str, ...]) -> tuple[str, ...]:
    for number, rule in enumerate(value, start=1):
        if not rule.strip():
            raise ValueError(f"rules of 1 to {MAX_RULE_CHARS} characters; rule {number} is empty")
        if len(rule) > MAX_RULE_CHARS:
            raise ValueError(f"rules of 1 to {MAX_RULE_CHARS} characters; rule {number} is longer")
    return tuple(rule.strip() for rule in value)


def _check_optional_username(value: str) -> str:
    return _check_username(value) if value else value


FEDERATION_MODES = ("open", "allowlist")


def _check_federation_mode(value: str) -> str:
    if value not in FEDERATION_MODES:
        raise ValueError(f"one of {', '.join(FEDERATION_MODES)}, got {value!r}")
    return value


def _check_cache_url(value: str) -> str:
    parts = urlsplit(value)
    if value and (parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path)):
        raise ValueError(f"a Redis URL such as redis://127.0.0.1:6379/0 (or empty), got {value!r}")
    return value


def _check_metrics_port(value: int) -> int:
    return value and _check_port(value)


def _check_domains(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(check_domain(d) for d in value)


CHECKS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("node", "domain"): check_domain,
    ("node", "base_url"): _check_http_url,
    ("node", "institution_username"): _check_username,
    ("node", "contact_account"): _check_optional_username,
    ("node", "rules"): _check_rules,
    ("server", "port"): _check_port,
    ("server", "workers"): _check_positive,
    ("database", "url"): _check_database_url,
    ("database", "pool_size"): _check_positive,
    ("federation", "blocked_domains"): _check_domains,
    ("federation", "mode"): _check_federation_mode,
    ("federation", "allowed_domains"): _check_domains,
    ("federation", "connect_timeout"): _check_positive,
    ("federation", "request_timeout"): _check_positive,
    ("federation", "max_inbox_body_bytes"): _check_positive,
    ("federation", "max_fetch_bytes"): _check_positive,
    ("federation", "delivery_workers"): _check_non_negative,
    ("federation", "retry_initial_delay"): _check_positive,
    ("federation", "delivery_lease_seconds"): _check_positive,
    ("federation", "crawl_interval_minutes"): _check_non_negative,
    ("analytics", "interval_minutes"): _check_positive,
    ("analytics", "recompute_after_edges"): _check_positive,
    **{
        ("matching", f"{signal}_weight"): _check_weight
        for signal in ("tfidf", "embedding", "skills", "graph")
    },
    ("matching", "embed_batch"): _check_positive,
    ("web", "session_secret"): _check_secret,
    ("web", "session_days"): _check_positive,
    ("web", "sign_in_attempts"): _check_positive,
    ("web", "sign_in_window_minutes"): _check_positive,
    ("web", "invitation_days"): _check_positive,
    **{
        ("rate_limits", spec.name): _check_positive
        for spec in dataclasses.fields(RateLimitsConfig)
        if spec.type == "int"
    },
    ("media", "directory"): _check_directory,
    ("media", "max_image_bytes"): _check_positive,
    ("media", "max_image_pixels"): _check_positive,
    ("log", "level"): _check_log_level,
    ("log", "format"): _check_log_format,
    ("metrics", "token"): _check_metrics_token,
    ("worker", "drain_seconds"): _check_non_negative,
    ("worker", "metrics_port"): _check_metrics_port,
    ("cache", "url"): _check_cache_url,
}


# --- type conversion -----------------------------------------------------------------

_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "tuple[str, ...]": "a list of strings",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# What a TOML value must look like for each declared type, and how it is stored.
_ACCEPTS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "bool": (lambda v: isinstance(v, bool), bool),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), int),
    "float": (_is_number, float),  # TOML writes 5 for 5.0; accept it
    "str": (lambda v: isinstance(v, str), str),
    "tuple[str, ...]": (lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v), tuple),
}


def _convert(annotation: str, value: Any) -> Any:
    """Check a TOML value against the declared type."""
    accepts, store = _ACCEPTS[annotation]
    if not accepts(value):
        raise ValueError(f"{_TYPE_NAMES[annotation]}, got {_describe(value)}")
    return store(value)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return f"a {type(value).__name__}"
    return repr(value)


def _parse_env(annotation: str, raw: str) -> Any:
    """Environment variables are strings: read them as the declared type."""
    text = raw.strip()
    if annotation == "bool":
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"true or false, got {raw!r}")
    if annotation == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"an integer, got {raw!r}") from None
    if annotation == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"a number, got {raw!r}") from None
    if annotation == "tuple[str, ...]":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return raw


# --- loading -------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    require_file: bool = True,
) -> Config:
    """Read, override from the environment and validate the configuration."""
    environ = os.environ if environ is None else environ
    config_path = Path(path or environ.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG_PATH)
    source = str(config_path)
    data = _read_toml(config_path, require_file)
    sections = {name: _build_section(name, data.get(name, {}), source, environ) for name in SECTIONS}
    for name in data:
        if name not in SECTIONS:
            raise ConfigError(source, f"[{name}]", f"unknown section (expected one of {', '.join(SECTIONS)})")
    config = Config(**sections, source=source)
    config = _resolve_sqlite_path(config, config_path.parent)
    config = _resolve_tls_paths(config, config_path.parent)
    config = _resolve_media_directory(config, config_path.parent)
    _check_consistency(config)
    return config


def _read_toml(path: Path, require_file: bool) -> dict[str, Any]:
    if not path.exists():
        if require_file:
            raise ConfigError(
                str(path), None, "no such file (create one with `talentfed init --domain YOUR.DOMAIN`)"
            )
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read the file ({exc.strerror})") from None


def _build_section(name: str, values: Any, source: str, environ: Mapping[str, str]) -> Any:
    cls = SECTIONS[name]
    if not isinstance(values, dict):
        raise ConfigError(source, f"[{name}]", f"expected a table, got {_describe(values)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in fields:
            raise ConfigError(source, f"[{name}] {key}", f"unknown key (expected one of {', '.join(fields)})")
    kwargs: dict[str, Any] = {}
    for key, spec in fields.items():
        env_name = f"{ENV_PREFIX}{name.upper()}_{key.upper()}"
        annotation = str(spec.type)
        try:
            if env_name in environ:
                where = f"environment variable {env_name}"
                value = _parse_env(annotation, environ[env_name])
            elif key in values:
                where = f"{source}: [{name}] {key}"
                value = _convert(annotation, values[key])
            else:
                continue
            check = CHECKS.get((name, key))
            kwargs[key] = check(value) if check else value
        except ValueError as exc:
            raise ConfigError(where, None, f"expected {exc}") from None
    return cls(**kwargs)


def _resolve_sqlite_path(config: Config, base_dir: Path) -> Config:
    """Relative SQLite paths are relative to the config file, not to the current directory."""
    url = make_url(config.database.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return config
    db_path = Path(url.database)
    if not db_path.is_absolute():
        db_path = (base_dir / db_path).resolve()
    resolved = url.set(database=str(db_path)).render_as_string(hide_password=False)
    return dataclasses.replace(config, database=dataclasses.replace(config.database, url=resolved))


def _resolve_tls_paths(config: Config, base_dir: Path) -> Config:
    """Like the SQLite path, relative certificate and key paths are relative to the config file."""
    server = config.server
    if not server.tls_certificate and not server.tls_private_key:
        return config

    def resolve(path: str) -> str:
        return str((base_dir / path).resolve()) if path else path

    server = dataclasses.replace(
        server,
        tls_certificate=resolve(server.tls_certificate),
        tls_private_key=resolve(server.tls_private_key),
    )
    return dataclasses.replace(config, server=server)


def _resolve_media_directory(config: Config, base_dir: Path) -> Config:
    """Like the SQLite path, a relative media directory is relative to the config file."""
    directory = (base_dir / config.media.directory).resolve()
    return dataclasses.replace(config, media=dataclasses.replace(config.media, directory=str(directory)))


def _check_consistency(config: Config) -> None:
    server = config.server
    if bool(server.tls_certificate) != bool(server.tls_private_key):
        missing = "tls_private_key" if server.tls_certificate else "tls_certificate"
        raise ConfigError(
            config.source,
            f"[server] {missing}",
            "expected a PEM file path: tls_certificate and tls_private_key are set together, or neither",
        )
    _check_matching_weights(config)
    base = urlsplit(config.node.base_url)
    if base.scheme == "http" and not config.federation.dev_mode:
        raise ConfigError(
            config.source,
            "[node] base_url",
            "expected an https:// URL (plain http is only allowed with [federation] dev_mode = true)",
        )


def _check_matching_weights(config: Config) -> None:
    matching = config.matching
    weights = (matching.tfidf_weight, matching.embedding_weight, matching.skills_weight)
    if sum(weights) + matching.graph_weight <= 0:
        raise ConfigError(
            config.source,
            "[matching] tfidf_weight",
            "expected at least one of tfidf_weight, embedding_weight, skills_weight, graph_weight above 0",
        )


def render_config(template: str, values: Mapping[tuple[str, str], Any]) -> str:
    """Fill `key = value` lines of a commented TOML template, keeping its comments."""
    section = None
    lines = []
    for line in template.splitlines():
        header = re.match(r"^\[(\w+)\]\s*$", line)
        if header:
            section = header.group(1)
        assignment = re.match(r"^(\w+)\s*=", line)
        if assignment and section is not None and (section, assignment.group(1)) in values:
            key = assignment.group(1)
            line = f"{key} = {_toml_literal(values[(section, key)])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
