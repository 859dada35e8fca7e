"""The admin commands, run as separate processes: every call is a restart of the node."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory

from talentfed.config import load_config
from talentfed.storage import migrate
from tests.support import run_cli, write_config


def test_init_writes_config_migrates_and_creates_the_institution(tmp_path: Path) -> None:
    result = run_cli("init", "--domain", "uni.example", "--name", "Uni", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = load_config(tmp_path / "config.toml", environ={})
    assert config.node.base_url == "https://uni.example"
    assert config.federation.dev_mode is False
    assert config.node.name == "Uni"
    assert (tmp_path / "data" / "talentfed.db").exists()
    assert "@institution@uni.example" in result.stdout

    again = run_cli("init", "--domain", "uni.example", cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_init_refuses_an_invalid_domain_without_writing(tmp_path: Path) -> None:
    result = run_cli("init", "--domain", "bad domain", cwd=tmp_path)
    assert result.returncode == 2
    assert "[node] domain: expected a domain name" in result.stderr
    assert not (tmp_path / "config.toml").exists()


def test_members_demo_and_listing_on_each_backend(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    env = {"TALENTFED_CONFIG": str(tmp_path / "config.toml")}

    added = run_cli(
        "user",
        "add",
        "dora",
        "--display-name",
        "Dora Diaz",
        "--skills",
        "#MachineLearning, Rust",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    record = json.loads(added.stdout)
    assert record["handle"] == "@dora@127.0.0.1:8000"
    assert record["skills"] == ["machine learning", "rust"]

    duplicate = run_cli("user", "add", "dora", "--display-name", "Again", cwd=tmp_path, env=env)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    bad = run_cli("user", "add", "Not Valid", "--display-name", "X", cwd=tmp_path, env=env)
    assert bad.returncode == 1
    assert "username: expected 1-30 lowercase letters" in bad.stderr

    for _ in range(2):  # the second run must create nothing
        demo = run_cli("demo", cwd=tmp_path, env=env)
        assert demo.returncode == 0, demo.stderr
    assert "(0 members and 0 posts created)" in demo.stdout
    assert "(0 made-up researchers created on lab.demo.invalid" in demo.stdout
    people = run_cli("discover", "people", "ada", "--json", cwd=tmp_path, env=env)
    found = json.loads(people.stdout)
    assert found and all(item["why"] for item in found)  # the demo run stored a snapshot to read
    removed = run_cli("demo", "--remove-neighbourhood", cwd=tmp_path, env=env)
    assert removed.returncode == 0 and "(7 actors with their posts and follows)" in removed.stdout
    assert json.loads(run_cli("discover", "people", "ada", "--json", cwd=tmp_path, env=env).stdout) == []

    listed = run_cli("user", "list", "--json", cwd=tmp_path, env=env)
    members = json.loads(listed.stdout)
    assert [m["username"] for m in members] == ["ada", "alan", "dora", "grace"]
    table = run_cli("user", "list", cwd=tmp_path, env=env).stdout
    assert "@grace@127.0.0.1:8000" in table and "machine learning" in table

    short = run_cli("user", "password", "dora", cwd=tmp_path, env=env, stdin="short\n")
    assert short.returncode == 1 and "password: at least 10 characters" in short.stderr
    unknown = run_cli("user", "password", "nobody", cwd=tmp_path, env=env, stdin="long enough pw\n")
    assert unknown.returncode == 1 and "no member called 'nobody'" in unknown.stderr
    good = run_cli("user", "password", "dora", cwd=tmp_path, env=env, stdin="long enough pw\n")
    assert good.returncode == 0 and "password set for dora" in good.stdout
    invite = run_cli("user", "invite", "--note", "Noor", cwd=tmp_path, env=env)
    assert invite.returncode == 0 and invite.stdout.startswith("http://127.0.0.1:8000/join?invitation=")


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    result = run_cli("user", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "has no schema yet: run `talentfed migrate`" in result.stderr
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    assert run_cli("user", "list", cwd=tmp_path).stdout.strip() == "no members yet"


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in (["init"], ["migrate"], ["demo"], ["serve"], ["user", "add"], ["user", "list"]):
        result = run_cli(*command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        assert "usage: talentfed" in result.stdout


def test_migrate_check_says_whether_migrations_are_pending(tmp_path: Path) -> None:
    write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}")
    empty = run_cli("migrate", "--check", cwd=tmp_path)
    assert empty.returncode == 1 and "has no schema yet" in empty.stdout, empty
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    current = run_cli("migrate", "--check", cwd=tmp_path)
    assert current.returncode == 0 and "(current)" in current.stdout, current
    with sqlite3.connect(tmp_path / "node.db") as db:  # one migration behind
        (head,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        # the revision before head (numbers may leave gaps where branches were merged)
        previous = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(head).down_revision
        db.execute("UPDATE alembic_version SET version_num = ?", (previous,))
    behind = run_cli("migrate", "--check", cwd=tmp_path)
    assert behind.returncode == 1, behind
    assert f"at revision {previous}, 1 migration(s) behind {head}" in behind.stdout
    assert f"pending: {head}; run `talentfed migrate`" in behind.stdout
