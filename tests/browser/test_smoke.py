"""First browser tests: a member's profile page and its remote-follow box; the console check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import ConsoleWatch, shot
from tests.multinode.nodes import Node

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/users/ada", "/@ada"], ids=["users", "at"])
def test_profile_page_remote_follow_rejects_a_malformed_handle(
    page: Page, console_watch: ConsoleWatch, node_a: Node, path: str
) -> None:
    response = page.goto(node_a.base_url + path)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Okafor")
    alternate = page.locator('link[rel="alternate"][type="application/activity+json"]')
    expect(alternate).to_have_attribute("href", node_a.actor_uri("ada"))

    form = page.locator('form[action$="/users/ada/remote_follow"]')
    handle = form.locator('input[name="handle"]')
    handle.fill("not a handle")
    shot(page, "handle-typed")

    # The form is answered with status 400, which Chromium logs as a failed load.
    console_watch.allow(r"status of 400", url="/users/ada/remote_follow")
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="Follow").click()
    assert navigation.value is not None and navigation.value.status == 400

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(re.compile("handle", re.IGNORECASE))
    handle = page.locator('form[action$="/users/ada/remote_follow"] input[name="handle"]')
    expect(handle).to_have_value("not a handle")
    described_by = handle.get_attribute("aria-describedby")
    assert described_by and alert.get_attribute("id") in described_by.split()


def test_profile_page_has_no_console_errors(page: Page, node_a: Node) -> None:
    """The page fixture fails the test on any console error (an inline style the CSP blocks...)."""
    response = page.goto(node_a.base_url + "/users/ada")
    assert response is not None and response.status == 200


def _watched_page(browser: Browser, html: str) -> tuple[ConsoleWatch, Page]:
    context = browser.new_context()
    watch = ConsoleWatch().attach(context)
    page = context.new_page()
    page.set_content(html)
    page.evaluate("() => new Promise(requestAnimationFrame)")  # let the events arrive
    return watch, page


def test_console_check_catches_console_errors_and_uncaught_errors(browser: Browser) -> None:
    watch, page = _watched_page(browser, '<script>console.error("x")</script><p>quiet</p>')
    with pytest.raises(AssertionError, match=r"console error.*: x"):
        watch.check()
    page.context.close()

    watch, page = _watched_page(browser, '<script>throw new Error("boom")</script>')
    with pytest.raises(AssertionError, match=r"uncaught page error.*boom"):
        watch.check()
    page.context.close()


def test_console_check_passes_quiet_pages_and_allowed_errors(browser: Browser) -> None:
    watch, page = _watched_page(browser, '<script>console.log("fine"); console.warn("meh")</script>')
    watch.check()
    page.context.close()

    watch, page = _watched_page(browser, '<script>console.error("expected: x")</script>')
    assert len(watch.problems) == 1
    watch.problems_seen.clear()
    watch.allow(r"^expected: ")
    page.evaluate('() => console.error("expected: y")')
    page.evaluate("() => new Promise(requestAnimationFrame)")
    watch.check()
    page.context.close()
