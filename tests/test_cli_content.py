"""Content commands as separate processes: publish, list, accept, close, delete, edit a profile."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli, write_config


def test_publish_answer_accept_close_delete(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    body = tmp_path / "body.md"
    body.write_text("We look for **help** with parsers.")

    project = run_cli(
        "post",
        "project",
        "alan",
        "--title",
        "Parser work",
        "--file",
        str(body),
        "--skills",
        "Rust,#ParserGenerators",
        "--deadline",
        "2099-01-31",
        "--team-size",
        "2",
        "--json",
        cwd=tmp_path,
    )
    assert project.returncode == 0, project.stderr
    record = json.loads(project.stdout)
    assert record["kind"] == "project" and record["status"] == "open"
    assert record["skills"] == ["rust", "parser generators"]
    assert record["deadline"].startswith("2099-01-31T23:59:59")

    question = run_cli(
        "post", "question", "grace", "--title", "Which parser?", "--file", str(body), cwd=tmp_path
    )
    question_url = question.stdout.strip()
    assert question_url.startswith("http://127.0.0.1:8000/objects/")
    answer = run_cli("answer", "alan", question_url, "--file", str(body), cwd=tmp_path)
    answer_url = answer.stdout.strip()
    assert answer.returncode == 0 and answer_url.startswith("http://127.0.0.1:8000/objects/")

    not_asker = run_cli("accept", "alan", answer_url, cwd=tmp_path)
    assert not_asker.returncode == 1 and "only its author" in not_asker.stderr
    assert run_cli("accept", "grace", answer_url, cwd=tmp_path).returncode == 0
    closed = run_cli("project", "close", "alan", record["url"], cwd=tmp_path)
    assert closed.returncode == 0 and closed.stdout.strip().endswith(": closed")

    listed = json.loads(run_cli("posts", "grace", "--json", cwd=tmp_path).stdout)
    accepted = next(p for p in listed if p["url"] == question_url)["accepted_answer"]
    assert accepted == answer_url
    projects = json.loads(run_cli("posts", "alan", "--kind", "project", "--json", cwd=tmp_path).stdout)
    assert [p["status"] for p in projects] == ["closed"]

    assert run_cli("pin", "grace", question_url, cwd=tmp_path).returncode == 0
    assert "pinned" in run_cli("pin", "grace", question_url, cwd=tmp_path).stdout
    assert run_cli("pin", "ada", question_url, cwd=tmp_path).returncode == 1  # not ada's post
    assert run_cli("like", "ada", question_url, cwd=tmp_path).stdout.strip() == f"like: {question_url}"
    assert run_cli("delete", "grace", question_url, cwd=tmp_path).returncode == 0
    remaining = json.loads(run_cli("posts", "grace", "--json", cwd=tmp_path).stdout)
    assert question_url not in [p["url"] for p in remaining]


def test_bad_post_input_names_the_field(tmp_path: Path, fresh_database) -> None:
    write_config(tmp_path, fresh_database("sqlite"))
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    body = tmp_path / "b.md"
    body.write_text("text")
    cases = [
        (("post", "article", "ada", "--file", str(body)), 1, "title: a title is required"),
        (
            ("post", "project", "ada", "--title", "t", "--file", str(body), "--deadline", "2001-01-01"),
            1,
            "deadline: the deadline is in the past",
        ),
        (
            ("post", "project", "ada", "--title", "t", "--file", str(body), "--deadline", "tomorrow"),
            2,
            "--deadline: expected YYYY-MM-DD",
        ),
        (("post", "note", "ada", "--file", str(tmp_path / "missing.md")), 1, "--file: cannot read"),
        (("post", "note", "nobody", "--file", str(body)), 1, "no member called 'nobody'"),
        (("answer", "ada", "http://127.0.0.1:8000/objects/nope", "--file", str(body)), 1, "objects/nope"),
    ]
    for args, status, message in cases:
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == status, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_user_set_edits_the_profile(tmp_path: Path, fresh_database) -> None:
    write_config(tmp_path, fresh_database("sqlite"))
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    bio = tmp_path / "bio.md"
    bio.write_text("New *bio*.")
    result = run_cli(
        "user",
        "set",
        "grace",
        "--headline",
        "Postdoc",
        "--skills",
        "NLP,#SpeechSynthesis",
        "--bio-file",
        str(bio),
        "--indexable",
        "false",
        "--field",
        "ORCID=https://orcid.org/0000",
        "--avatar-url",
        "https://cdn.example/g.png",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["headline"] == "Postdoc" and profile["indexable"] is False
    assert profile["skills"] == ["nlp", "speech synthesis"]
    assert profile["avatar"] == "https://cdn.example/g.png"
    bad_avatar = run_cli("user", "set", "grace", "--avatar-url", "javascript:alert(1)", cwd=tmp_path)
    assert bad_avatar.returncode == 1 and "avatar: expected an http(s) URL" in bad_avatar.stderr
    bad = run_cli("user", "set", "grace", "--indexable", "maybe", cwd=tmp_path)
    assert bad.returncode == 2 and "expected true or false" in bad.stderr


def test_a_mention_nobody_answers_for_names_the_body_and_publishes_nothing(
    tmp_path: Path, db_url: str
) -> None:
    write_config(tmp_path, db_url)
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    body = tmp_path / "body.md"
    body.write_text("Thanks @nobody@127.0.0.1:9 for the idea.")  # port 9: nothing listens
    before = json.loads(run_cli("posts", "grace", "--json", cwd=tmp_path).stdout)

    post = run_cli("post", "article", "grace", "--title", "Ideas", "--file", str(body), cwd=tmp_path)

    assert post.returncode == 1
    assert "body" in post.stderr and "cannot find @nobody@127.0.0.1:9" in post.stderr
    assert "Traceback" not in post.stderr
    assert json.loads(run_cli("posts", "grace", "--json", cwd=tmp_path).stdout) == before


def test_team_size_out_of_range_is_refused_with_the_vocabularys_limits(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    body = tmp_path / "body.md"
    body.write_text("Help wanted.")
    post = run_cli(
        "post", "project", "alan", "--title", "Big", "--file", str(body), "--team-size", "0", cwd=tmp_path
    )
    assert post.returncode == 1
    assert "team_size" in post.stderr and "from 1 to 1000" in post.stderr
