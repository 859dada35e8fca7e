"""Two real nodes, two browsers: a project call published on A is found on B's discovery page;
a question asked on A is answered from B and the answer accepted on A.

Each node is `talentfed serve` with the demo institution; they federate over real HTTP with
real signatures. Each person has a browser context of their own (both nodes are on 127.0.0.1,
and cookies do not tell ports apart).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import ConsoleWatch, shot
from tests.multinode.nodes import Node

pytestmark = pytest.mark.browser

PASSWORD = "talentfed-demo"
TIMEOUT = 30.0


def sign_in(page: Page, node: Node, username: str) -> None:
    page.goto(f"{node.base_url}/sign-in")
    page.get_by_label(re.compile("Your name on")).fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def reload_until(page: Page, url: str, text: str, *, what: str) -> None:
    """Open `url` again until `text` is on the page (federation takes a moment)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        page.goto(url)
        if text in page.content():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {TIMEOUT} s waiting for {what}")
        time.sleep(0.5)


def test_project_call_found_on_another_node_and_question_answered_across_nodes(
    page: Page, browser: Browser, console_watch: ConsoleWatch, start_node: Callable[..., Node]
) -> None:
    a, b = start_node("a"), start_node("b")
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    console_watch.attach(other)  # the same no-console-error rule for the second browser
    remote = other.new_page()

    # On B, Grace follows Ada of A by her handle.
    sign_in(remote, b, "grace")
    remote.goto(f"{b.base_url}/follows")
    remote.get_by_label(re.compile("Follow someone by handle")).fill(a.handle("ada"))
    remote.get_by_role("button", name="Follow", exact=True).click()
    expect(remote.get_by_role("status")).to_contain_text("ada@")
    reload_until(remote, f"{b.base_url}/follows", "<td>accepted</td>", what="A to accept the follow")
    shot(remote, "b-grace-follows-a-ada")

    # On A, Ada writes a project call, previews it, publishes it.
    sign_in(page, a, "ada")
    page.goto(f"{a.base_url}/write/project")
    title = "Annotators wanted for the Kiswahili radio corpus"
    page.get_by_label("Title").fill(title)
    page.get_by_label(re.compile("Skills sought")).fill("Swahili, Data Engineering")
    page.get_by_label(re.compile("Deadline")).fill((date.today() + timedelta(days=40)).isoformat())
    page.get_by_label(re.compile("^Text")).fill("We need **two** people who read Kiswahili.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview strong")).to_have_text("two")
    shot(page, "a-project-preview")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("status")).to_have_text("Published.")
    project_url = page.url

    # On B, the call shows up in the discovery search once it has been delivered.
    search = f"{b.base_url}/discover?q=kiswahili+radio"
    reload_until(remote, search, title, what="the project call to reach B's discovery page")
    results = remote.locator("article.result-project")
    expect(results.first).to_contain_text(title)
    expect(results.first).to_contain_text("#swahili")
    shot(remote, "b-discover-finds-the-call")
    results.first.get_by_role("link", name=title).click()
    expect(remote.get_by_role("heading", level=1)).to_have_text(title)
    expect(remote.get_by_text(f"seen from {a.domain}")).to_be_visible()
    # Ada sees on her call that it reached one server (B), and nothing is failing.
    reload_until(page, project_url, "Delivered to 1 server", what="A to record the delivery to B")
    expect(page.locator("#federation-status")).not_to_contain_text("failing")
    shot(page, "a-project-federation-status")

    # On A, Ada asks a question; on B, Grace finds it and answers it.
    page.goto(f"{a.base_url}/write/question")
    question = "Which tokenizer copes with Kiswahili morphology?"
    page.get_by_label("Title").fill(question)
    page.get_by_label(re.compile("^Text")).fill("Agglutination breaks our BPE vocabulary.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    question_url = page.url

    reload_until(remote, f"{b.base_url}/discover?q=tokenizer", question, what="the question to reach B")
    remote.get_by_role("link", name=question).click()
    remote.get_by_label(re.compile("^Text")).fill("Try a unigram model trained on morphemes.")
    remote.get_by_role("button", name="Publish answer").click()
    expect(remote.get_by_role("status")).to_have_text("Your answer was published.")
    shot(remote, "b-answer-published")

    # Back on A, the answer from B has arrived; Ada accepts it.
    reload_until(page, question_url, "unigram model trained on morphemes", what="B's answer to reach A")
    answer = page.locator("article.card", has_text="unigram model")
    expect(answer).to_contain_text(b.handle("grace").lstrip("@"))
    answer.get_by_role("button", name="Accept this answer").click()
    expect(page.get_by_text("✓ Accepted answer")).to_be_visible()
    shot(page, "a-answer-accepted")

    # B hears of it: the question, as B has it, now shows the accepted answer.
    observed = remote.url.split("#")[0]
    reload_until(remote, observed, "Accepted answer", what="the accepted answer to reach B")
    other.close()
