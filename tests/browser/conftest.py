"""Browser tests: headless Debian Chromium driven by Playwright's sync API, against real nodes.

Fixtures
  browser     headless Chromium (/usr/bin/chromium), one for all browser tests
  page        a fresh context (1280x900) and page per test; after the test it saves
              <output dir>/<test name>.png and fails the test if any page of the context
              logged a console error or threw an uncaught error
  console_watch  that test's ConsoleWatch: `console_watch.allow(regex, url=...)` for an
              error the test expects (e.g. the "status of 400" of a form answered with 400)
  node_a      a running node with the demo institution (ada, grace, alan), shared by the
              tests of one module
  start_node  factory: start_node("b") → a fresh running node (demo data unless demo=False),
              stopped when the test ends
Helpers in tests.browser.support: `shot(page, "label")` saves <test name>--label.png mid-test.

Screenshots go to test-output/browser/ in the repo, or to $TALENTFED_TEST_OUTPUT if set.

Mark browser test modules with `pytestmark = pytest.mark.browser` and write the tests as
plain (sync) functions. While the browser is open, Playwright marks the main thread's event
loop as running between its calls, so asyncio.run() fails there: reach a node's data with
node.cli_*/httpx, or tests.conftest.run_blocking. For the same reason the browser lives in
package scope: it is closed before the tests outside tests/browser run.
A node's server log is node.log() (node.log_path).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import CHROMIUM, CHROMIUM_MISSING, ConsoleWatch, screenshot_path
from tests.multinode.nodes import Node
from tests.support.environment import IN_CI

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container, where Chromium's sandbox cannot start
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--disable-gpu",
]


def _unavailable(message: str) -> None:
    """Outside CI a machine without Chromium skips the browser tests; CI must run them."""
    if IN_CI:
        pytest.fail(message + " (CI must run the browser tests)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(CHROMIUM_MISSING)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright is not installed ({exc}): pip install -e '.[test]'")
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def console_watch() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser: Browser, console_watch: ConsoleWatch) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(10_000)
    console_watch.attach(context)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a test that used `page`: its screenshot, then the console check (a failure of the test)."""
    try:
        result = yield
    except BaseException:
        _after_browser_test(item, failed=True)
        raise
    _after_browser_test(item, failed=False)
    return result


def _after_browser_test(item: pytest.Item, *, failed: bool) -> None:
    funcargs = getattr(item, "funcargs", {})
    page, watch = funcargs.get("page"), funcargs.get("console_watch")
    if page is None or watch is None:
        return
    path = screenshot_path(item.name)
    try:
        page.screenshot(path=str(path), full_page=True)
        item.add_report_section("call", "screenshot", str(path))
    except Exception as exc:  # a crashed or closed page: say so, keep the test's own outcome
        item.add_report_section("call", "screenshot", f"could not save {path}: {exc}")
    if watch.problems:
        if not failed:
            pytest.fail(watch.report(), pytrace=False)
        item.add_report_section("call", "browser console", watch.report())


# --- nodes -------------------------------------------------------------------------------


def _new_node(name: str, directory: Path, *, demo: bool) -> Node:
    node = Node(name, directory, f"sqlite+aiosqlite:///{directory / 'talentfed.db'}")
    if demo:
        node.cli_ok("demo")
    node.start()
    return node


@pytest.fixture(scope="module")
def node_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Node "a" with the demo institution, running for the tests of one module."""
    node = _new_node("a", tmp_path_factory.mktemp("browser-node-a"), demo=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    """start_node(name, demo=True) → a running node of its own; all stopped when the test ends."""
    started: list[Node] = []

    def start(name: str, *, demo: bool = True) -> Node:
        node = _new_node(name, tmp_path / f"node-{name}-{len(started)}", demo=demo)
        started.append(node)
        return node

    try:
        yield start
    finally:
        errors = []
        for node in started:
            try:
                node.stop()
            except Exception as exc:  # stop the others all the same
                errors.append(f"{node.name}: {exc!r}")
        assert not errors, f"nodes did not stop: {errors}"
