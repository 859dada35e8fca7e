"""Text rules shared by every layer: Markdown rendering, HTML sanitising, skill names."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# Close to what Mastodon keeps of remote HTML: text structure and links, no
# scripts, styles, event handlers, forms or embedded media.
ALLOWED_TAGS = {
    "p",
    "br",
    "span",
    "a",
    "del",
    "s",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "sup",
    "sub",
    "hr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "translate"},
    "span": {"class", "translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "xmpp", "gopher", "gemini", "matrix"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


def sanitize_html(html: str) -> str:
    """Reduce untrusted HTML to the allow-list; links get rel=nofollow noopener."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


def render_markdown(source: str) -> str:
    """Markdown written by a member → sanitised HTML (raw HTML in the source is escaped)."""
    return sanitize_html(_markdown.render(source)).strip()


# A word boundary inside a CamelCase hashtag is where a capitalised word starts:
# MachineLearning → Machine Learning, HTTPServer → HTTP Server, but PostgreSQL stays whole.
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_skill(raw: str) -> str:
    """'#MachineLearning', 'machine-learning' and ' Machine learning ' → 'machine learning'."""
    text = raw.strip().lstrip("#")
    text = _CAMEL_BOUNDARY.sub(" ", text)
    return _SEPARATORS.sub(" ", text).strip().lower()


def normalize_skills(raw: list[str] | tuple[str, ...]) -> list[str]:
    """Normalise, drop empties and duplicates, keep the first-seen order."""
    seen: dict[str, None] = {}
    for item in raw:
        skill = normalize_skill(item)
        if skill:
            seen.setdefault(skill, None)
    return list(seen)
