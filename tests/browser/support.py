"""Helpers for the browser tests: where screenshots go, `shot`, and the console-error watch.

The fixtures that use these live in tests/browser/conftest.py.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support import REPO

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, WebError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = (
    f"Chromium is not installed at {CHROMIUM}; the browser tests drive Debian's Chromium: "
    "apt-get install chromium (never `playwright install`: it downloads a browser of its own)"
)


def output_dir() -> Path:
    """Where screenshots go: $TALENTFED_TEST_OUTPUT if set, else test-output/browser/ in the repo."""
    configured = os.environ.get("TALENTFED_TEST_OUTPUT")
    directory = Path(configured) if configured else REPO / "test-output" / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def safe_name(name: str) -> str:
    """A test name (with its [params]) as a file name."""
    return re.sub(r"[^A-Za-z0-9._\[\]-]+", "_", name).strip("_") or "test"


def current_test_name() -> str:
    """The running test's name, read from what pytest publishes in PYTEST_CURRENT_TEST."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "outside-a-test")
    return current.rsplit(" (", 1)[0].rsplit("::", 1)[-1]


def screenshot_path(test_name: str, label: str | None = None) -> Path:
    stem = safe_name(test_name) + (f"--{safe_name(label)}" if label else "")
    return output_dir() / f"{stem}.png"


def shot(page: Page, label: str) -> Path:
    """Save a full-page screenshot now, as <output dir>/<test name>--<label>.png; return its path."""
    path = screenshot_path(current_test_name(), label)
    page.screenshot(path=str(path), full_page=True)
    return path


# Errors no test page may cause are not allowed by default (the pages link their own icon).
DEFAULT_ALLOWED: tuple[tuple[str, str | None], ...] = ()


@dataclass
class ConsoleWatch:
    """Records console errors and uncaught page errors of every page in a browser context.

    `check()` raises AssertionError listing them; the `page` fixture calls it after each
    test. A test that expects an error says so first with `allow(...)`, e.g. a form
    answered with status 400 logs "Failed to load resource: ... status of 400".
    """

    problems_seen: list[str] = field(default_factory=list)
    allowed: list[tuple[re.Pattern[str], str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for pattern, url in DEFAULT_ALLOWED:
            self.allow(pattern, url=url)

    def attach(self, context: BrowserContext) -> ConsoleWatch:
        """Listen to every page of `context`, those opened later included."""
        context.on("console", self._on_console)
        context.on("weberror", self._on_web_error)
        return self

    def allow(self, pattern: str, *, url: str | None = None) -> None:
        """Accept errors whose text matches the regular expression `pattern` (searched, not
        matched), and, with `url`, only those logged from a URL containing that string."""
        self.allowed.append((re.compile(pattern), url))

    def _is_allowed(self, text: str, url: str) -> bool:
        return any(
            pattern.search(text) and (wanted is None or wanted in url) for pattern, wanted in self.allowed
        )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "") if message.location else ""
        if not self._is_allowed(message.text, url):
            where = f" ({url}:{message.location.get('lineNumber', 0)})" if url else ""
            self.problems_seen.append(f"console error{where}: {message.text}")

    def _on_web_error(self, web_error: WebError) -> None:
        page_url = web_error.page.url if web_error.page else ""
        text = f"{type(web_error.error).__name__}: {web_error.error.message}"
        if web_error.error.stack:
            text = web_error.error.stack
        if not self._is_allowed(text, page_url):
            self.problems_seen.append(f"uncaught page error ({page_url}): {text}")

    @property
    def problems(self) -> list[str]:
        return list(self.problems_seen)

    def report(self) -> str:
        lines = [f"{len(self.problems_seen)} console error(s) or page error(s):"]
        lines += [f"  - {problem}" for problem in self.problems_seen]
        return "\n".join(lines)

    def check(self) -> None:
        """Raise AssertionError if any page logged a console error or threw an uncaught error."""
        if self.problems_seen:
            raise AssertionError(self.report())
