"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from talentfed.config import render_config
from talentfed.storage.models import Actor

REPO = Path(__file__).resolve().parents[1]


def write_config(directory: Path, db_url: str, **overrides: object) -> Path:
    """A dev-mode config file in `directory`; overrides are {"section.key": value}."""
    values: dict[tuple[str, str], object] = {
        ("node", "domain"): "127.0.0.1:8000",
        ("node", "base_url"): "http://127.0.0.1:8000",
        ("federation", "dev_mode"): True,
        ("database", "url"): db_url,
    }
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        values[(section, key)] = value
    path = directory / "config.toml"
    path.write_text(render_config((REPO / "config.example.toml").read_text(), values))
    return path


def remote_actor(name: str, host: str, *, shared: bool = True, **fields: object) -> Actor:
    """A remote Person record at https://HOST/users/NAME, as ingest would store it."""
    uri = f"https://{host}/users/{name}"
    values: dict[str, object] = {
        "uri": uri,
        "type": "Person",
        "username": name,
        "domain": host,
        "local": False,
        "inbox_url": uri + "/inbox",
        "shared_inbox_url": f"https://{host}/inbox" if shared else None,
        "followers_url": uri + "/followers",
        "skills": [],
        "fields": [],
    }
    return Actor(**(values | fields))


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120, stdin: str | None = None
):
    """Run `python -m talentfed ARGS` in a separate process, as an admin would."""
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "talentfed", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env={**os.environ, **(env or {})},
    )
