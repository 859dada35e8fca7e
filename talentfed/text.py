"""Text rules shared by every layer: Markdown rendering, HTML sanitising, skill names."""

from __future__ import annotations

import re
from html import escape, unescape

import nh3
from markdown_it import MarkdownIt

# Close to what Mastodon keeps of remote HTML: text structure and links, no scripts,
# styles, event handlers, forms, frames or embedded media (remote images are never
# inlined: attachments are shown as links).
#
# Headings: Mastodon flattens h1-h6 into <p><strong> because a status is a short note.
# talentfed keeps them: articles are a first-class kind here (our own Markdown renders
# headings too), and headings carry no attributes, so they cannot execute anything.
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
# `class` is not listed here: ALLOWED_CLASSES decides which class names survive.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "translate"},
    "span": {"translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
# The classes Mastodon writes into mentions, hashtags and shortened links, and that
# its clients style: anything else could borrow our own page's CSS classes.
MASTODON_CLASSES = {"h-card", "u-url", "mention", "hashtag", "invisible", "ellipsis"}
ALLOWED_CLASSES = {"a": MASTODON_CLASSES, "span": MASTODON_CLASSES}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "xmpp", "gopher", "gemini", "matrix"}
# Removed together with everything inside them (other disallowed tags are removed but
# their text is kept): their content is code, or a fallback meant for another renderer.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "template",
    "iframe",
    "frame",
    "frameset",
    "noscript",
    "noembed",
    "noframes",
    "object",
    "embed",
    "applet",
    "textarea",
    "select",
    "title",
    "xmp",
}
LINK_REL = "nofollow noopener noreferrer"

# Built once: passing the allow-lists to nh3.clean converts them on every call.
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    allowed_classes=ALLOWED_CLASSES,
    url_schemes=ALLOWED_URL_SCHEMES,
    url_relative="deny",
    link_rel=LINK_REL,
)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


def sanitize_html(html: str) -> str:
    """Reduce untrusted HTML to the allow-list; links get rel="nofollow noopener noreferrer".

    A link keeps its href only if it is absolute with an allowed scheme: relative links
    would point into our own site, and `javascript:`/`data:` links could run code. The
    URL is parsed the way browsers do (entities decoded, tabs and newlines dropped), so
    obfuscated schemes are caught as well.
    """
    return _cleaner.clean(html)


_text_only = nh3.Cleaner(tags=set(), clean_content_tags=DROPPED_WITH_CONTENT, attributes={})


def html_to_excerpt(html: str | None, limit: int = 200) -> str:
    """Sanitised HTML as one line of plain text, cut at a word near `limit` characters."""
    text = " ".join(unescape(_text_only.clean(re.sub(r"<(br|/p|/li|/h\d)\b", " <\\1", html or ""))).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut or text[:limit]) + "…"


def plain_text_to_html(text: str) -> str:
    """Plain text (e.g. a `text/plain` remote post) as escaped paragraphs and line breaks."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join(
        "<p>" + "<br>".join(escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs if p.strip()
    )


def render_markdown(source: str) -> str:
    """Markdown written by a member → sanitised HTML (raw HTML in the source is escaped)."""
    return sanitize_html(_markdown.render(source)).strip()


# A word boundary inside a CamelCase hashtag is where a capitalised word starts:
# MachineLearning → Machine Learning, HTTPServer → HTTP Server, but PostgreSQL stays whole.
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_\-]+")
# Never part of a name, and PostgreSQL refuses NUL and unpaired surrogates outright.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_skill(raw: str) -> str:
    """'#MachineLearning', 'machine-learning' and ' Machine learning ' → 'machine learning'."""
    text = _CONTROLS.sub(" ", raw).strip().lstrip("#")
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
