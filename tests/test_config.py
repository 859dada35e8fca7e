"""Configuration: the example is valid, and every kind of mistake gives one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from talentfed.config import ConfigError, RateLimitsConfig, load_config, render_config
from tests.support import REPO, write_config

EXAMPLE = REPO / "config.example.toml"


def test_example_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.node.domain == "uni.example"
    assert config.federation.dev_mode is False
    assert config.rate_limits == RateLimitsConfig()  # the example states the defaults
    text = EXAMPLE.read_text().splitlines()
    # Every key line is preceded by a comment (possibly after other keys' comments).
    for index, line in enumerate(text):
        if "=" in line and not line.startswith("#"):
            assert text[index - 1].startswith("#"), f"undocumented key: {line}"


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///./data/x.db")
    config = load_config(path, environ={})
    assert config.database.url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'x.db'}"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db")
    env = {
        "TALENTFED_SERVER_PORT": "9123",
        "TALENTFED_FEDERATION_BLOCKED_DOMAINS": "spam.example, Bad.Example",
        "TALENTFED_FEDERATION_AUTHORIZED_FETCH": "true",
        "TALENTFED_DATABASE_URL": "postgresql://someone@db.internal/talentfed",
        "TALENTFED_RATE_LIMITS_API_PER_TOKEN": "600",
    }
    config = load_config(path, environ=env)
    assert config.server.port == 9123
    assert config.rate_limits.api_per_token == 600
    assert config.federation.blocked_domains == ("spam.example", "bad.example")
    assert config.federation.authorized_fetch is True
    # A plain postgresql:// URL is given the async driver.
    assert config.database.url == "postgresql+asyncpg://someone@db.internal/talentfed"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"server.port": "abc"}, 'config.toml: [server] port: expected an integer, got "abc"'),
        ({"server.port": 70000}, "[server] port: expected a port number from 1 to 65535, got 70000"),
        ({"database.url": "not a url"}, "[database] url: expected a database URL such as"),
        ({"database.url": "mysql://x@y/z"}, "[database] url: expected a sqlite or postgresql URL"),
        ({"node.base_url": "ftp://x"}, "[node] base_url: expected an http(s) URL"),
        ({"node.domain": "not a domain!"}, "[node] domain: expected a domain name"),
        ({"federation.dev_mode": "yes"}, '[federation] dev_mode: expected true or false, got "yes"'),
        ({"federation.blocked_domains": "x.example"}, "[federation] blocked_domains: expected a list"),
        ({"federation.mode": "closed"}, "[federation] mode: expected one of open, allowlist, got 'closed'"),
        (
            {"federation.allowed_domains": ["ok.example", "no way"]},
            "[federation] allowed_domains: expected a domain",
        ),
        (
            {"node.publish_domain_blocks": "yes"},
            '[node] publish_domain_blocks: expected true or false, got "yes"',
        ),
        ({"federation.request_timeout": -1}, "[federation] request_timeout: expected a number greater"),
        ({"rate_limits.api_per_token": 0}, "[rate_limits] api_per_token: expected a number greater than 0"),
        ({"rate_limits.enabled": "no"}, '[rate_limits] enabled: expected true or false, got "no"'),
        ({"log.format": "xml"}, "[log] format: expected one of text, json, got 'xml'"),
        ({"log.level": "LOUD"}, "[log] level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"metrics.token": "short"}, "[metrics] token: expected a random string of at least 16 characters"),
        ({"metrics.enabled": "yes"}, '[metrics] enabled: expected true or false, got "yes"'),
        ({"node.rules": ["Be kind.", " "]}, "rules: expected rules of 1 to 300 characters; rule 2 is empty"),
        ({"node.rules": ["x" * 301]}, "rules: expected rules of 1 to 300 characters; rule 1 is longer"),
        ({"node.rules": "Be kind."}, "[node] rules: expected a list of strings"),
        ({"node.contact_account": "Not A Name"}, "[node] contact_account: expected 1-30 lowercase letters"),
        ({"matching.tfidf_weight": -0.5}, "[matching] tfidf_weight: expected a weight between 0 and 100"),
        ({"matching.graph_weight": "high"}, "[matching] graph_weight: expected a number, got \"high\""),
        ({"matching.embed_batch": 0}, "[matching] embed_batch: expected a number greater than 0"),
        (
            {
                "matching.tfidf_weight": 0,
                "matching.embedding_weight": 0,
                "matching.skills_weight": 0,
                "matching.graph_weight": 0,
            },
            "[matching] tfidf_weight: expected at least one of tfidf_weight, embedding_weight",
        ),
    ],
)
def test_bad_values_name_file_key_and_expectation(tmp_path: Path, override: dict, expected: str) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db", **override)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_key_and_section(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db")
    path.write_text(path.read_text().replace("port = 8000", "port = 8000\nprot = 1"))
    with pytest.raises(ConfigError, match=r"\[server\] prot: unknown key \(expected one of host, port"):
        load_config(path, environ={})
    path.write_text(path.read_text().replace("prot = 1", "") + "\n[srever]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"\[srever\]: unknown section"):
        load_config(path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db")
    with pytest.raises(ConfigError, match="environment variable TALENTFED_SERVER_PORT: expected an integer"):
        load_config(path, environ={"TALENTFED_SERVER_PORT": "eighty"})


def test_the_log_level_variable_is_the_override_of_log_level(tmp_path: Path) -> None:
    """TALENTFED_LOG_LEVEL (which scripts and the benchmarks already set) overrides [log] level."""
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db")
    assert load_config(path, environ={}).log.level == "INFO"
    assert load_config(path, environ={"TALENTFED_LOG_LEVEL": "warning"}).log.level == "WARNING"
    with pytest.raises(ConfigError, match="environment variable TALENTFED_LOG_LEVEL: expected one of DEBUG"):
        load_config(path, environ={"TALENTFED_LOG_LEVEL": "chatty"})


def test_http_base_url_refused_outside_dev_mode(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db", **{"federation.dev_mode": False})
    with pytest.raises(ConfigError, match=r"\[node\] base_url: expected an https:// URL"):
        load_config(path, environ={})


def test_tls_files_come_in_pairs_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db", **{"server.tls_certificate": "tls/cert.pem"})
    with pytest.raises(ConfigError, match=r"\[server\] tls_private_key: expected a PEM file path"):
        load_config(path, environ={})
    config = load_config(path, environ={"TALENTFED_SERVER_TLS_PRIVATE_KEY": "/etc/keys/key.pem"})
    assert config.server.tls_certificate == str(tmp_path / "tls" / "cert.pem")
    assert config.server.tls_private_key == "/etc/keys/key.pem"
    assert load_config(EXAMPLE, environ={}).server.tls_certificate == ""


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file .*talentfed init"):
        load_config(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[node\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, environ={})


def test_render_config_keeps_comments() -> None:
    text = render_config(EXAMPLE.read_text(), {("server", "port"): 9000, ("node", "name"): 'A "quoted" name'})
    assert "port = 9000" in text
    assert 'name = "A \\"quoted\\" name"' in text
    assert text.count("#") == EXAMPLE.read_text().count("#")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "talentfed", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"server.port": "abc"}, '[server] port: expected an integer, got "abc"'),
        ({"database.url": "postgres+nonsense:/"}, "[database] url: expected"),
        ({"database.url": "postgresql+asyncpg://nobody@127.0.0.1:1/x"}, "expected a reachable database"),
    ],
)
def test_cli_reports_one_line_and_exits_2(tmp_path: Path, override: dict, fragment: str) -> None:
    write_config(tmp_path, "sqlite+aiosqlite:///x.db", **override)
    result = _cli("migrate", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "config.toml" in lines[0]
    assert "Traceback" not in result.stderr
