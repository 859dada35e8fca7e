"""`talentfed block|unblock|mute|unmute USER HANDLE` and `talentfed blocks|mutes USER`, as separate
processes on each back-end, between two members of the demo; refusals name their field."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli, write_config


def test_block_mute_and_list_them(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    env = {"TALENTFED_CONFIG": str(tmp_path / "config.toml")}
    assert run_cli("demo", cwd=tmp_path, env=env).returncode == 0
    grace = "@grace@127.0.0.1:8000"

    blocked = run_cli("block", "ada", grace, cwd=tmp_path, env=env)
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.strip() == f"@ada@127.0.0.1:8000 blocks {grace}"
    muted = run_cli(
        "mute", "ada", grace, "--duration", "3600", "--keep-notifications", "--json", cwd=tmp_path, env=env
    )
    assert muted.returncode == 0, muted.stderr
    record = json.loads(muted.stdout)
    assert record["notifications"] is False and record["expires_at"] is not None

    blocks = json.loads(run_cli("blocks", "ada", "--json", cwd=tmp_path, env=env).stdout)
    assert [row["handle"] for row in blocks] == [grace]
    mutes = json.loads(run_cli("mutes", "ada", "--json", cwd=tmp_path, env=env).stdout)
    assert [(row["handle"], row["notifications"]) for row in mutes] == [(grace, False)]
    refused = run_cli("follow", "grace", "@ada@127.0.0.1:8000", cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "a block stands" in refused.stderr

    assert "no longer blocks" in run_cli("unblock", "ada", grace, cwd=tmp_path, env=env).stdout
    assert "no longer mutes" in run_cli("unmute", "ada", grace, cwd=tmp_path, env=env).stdout
    assert run_cli("blocks", "ada", cwd=tmp_path, env=env).stdout.strip() == "ada blocks nobody"
    assert run_cli("mutes", "ada", cwd=tmp_path, env=env).stdout.strip() == "ada mutes nobody"


def test_refusals_name_the_field(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    env = {"TALENTFED_CONFIG": str(tmp_path / "config.toml")}
    assert run_cli("demo", cwd=tmp_path, env=env).returncode == 0

    myself = run_cli("block", "ada", "@ada@127.0.0.1:8000", cwd=tmp_path, env=env)
    assert myself.returncode == 1 and "account: an account cannot block itself" in myself.stderr
    negative = run_cli("mute", "ada", "@grace@127.0.0.1:8000", "--duration", "-1", cwd=tmp_path, env=env)
    assert negative.returncode == 1 and "duration: must be 0" in negative.stderr
    nobody = run_cli("block", "nobody", "@grace@127.0.0.1:8000", cwd=tmp_path, env=env)
    assert nobody.returncode == 1 and "username: no member called 'nobody'" in nobody.stderr
    not_a_number = run_cli(
        "mute", "ada", "@grace@127.0.0.1:8000", "--duration", "soon", cwd=tmp_path, env=env
    )
    assert not_a_number.returncode == 2 and "--duration" in not_a_number.stderr
