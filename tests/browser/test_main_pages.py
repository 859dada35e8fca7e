"""Every main page of a demo node in a real browser: it renders, has one h1, labels on every
form field, no console error; light and dark screenshots (docs/screenshots/ holds copies).

    TALENTFED_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_main_pages.py

writes the screenshots there instead of the test output, to refresh the documentation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import ConsoleWatch, shot
from tests.multinode.nodes import Node

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    ("home", "/"),
    ("profile", "/users/ada"),
    ("project-call", "/objects/demo-project"),
    ("question", "/objects/demo-question"),
    ("discover", "/discover?q=speech"),
    ("sign-in", "/sign-in"),
]
MEMBER_PAGES = [
    ("write-project", "/write/project"),
    ("follows", "/follows"),
    ("notifications", "/notifications"),
    ("settings", "/settings/profile"),
    ("settings-apps", "/settings/apps"),
    ("admin", "/admin"),
]


def _check_page(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map(e => e.name || e.id)"""
    )
    assert unlabelled == [], f"form fields without a label: {unlabelled}"
    missing_alt = page.evaluate("() => [...document.querySelectorAll('img:not([alt])')].map(i => i.src)")
    assert missing_alt == [], f"images without alt text: {missing_alt}"


def _save(page: Page, name: str) -> None:
    target = os.environ.get("TALENTFED_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)
    else:
        shot(page, name)


def test_public_and_member_pages_render_accessibly(page: Page, node_a: Node) -> None:
    for name, path in PUBLIC_PAGES:
        response = page.goto(node_a.base_url + path)
        assert response is not None and response.status == 200, path
        _check_page(page)
        _save(page, name)
    page.goto(node_a.base_url + "/sign-in")
    page.get_by_label(re.compile("Your name on")).fill("ada")
    page.get_by_label("Password").fill("talentfed-demo")
    page.get_by_role("button", name="Sign in").click()
    for name, path in MEMBER_PAGES:
        response = page.goto(node_a.base_url + path)
        assert response is not None and response.status == 200, path
        _check_page(page)
        _save(page, name)


def test_dark_scheme_and_a_narrow_screen(browser: Browser, console_watch: ConsoleWatch, node_a: Node) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 390, "height": 844})
    console_watch.attach(context)
    page = context.new_page()
    page.goto(node_a.base_url + "/users/ada")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 23, 27)", background  # --bg of the dark scheme
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    _save(page, "profile-dark-phone")
    page.goto(node_a.base_url + "/objects/demo-project")
    _save(page, "project-call-dark-phone")
    context.close()


def test_keyboard_reaches_the_main_content_first(page: Page, node_a: Node) -> None:
    page.goto(node_a.base_url + "/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))
