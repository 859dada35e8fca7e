"""Caps on federated input: how big, how deep and how strange a remote document may be.

Every JSON document another server gives us goes through `parse_json` before anything else
reads it: an inbox POST (`inbox.py`), a fetched actor, post, key or collection (`fetcher.py`),
a WebFinger answer (`webfinger.py`). An activity then passes `check_activity`, and every link
that leaves a parser passes `http_url` (`as_values.url_of`, `post_reader`, `actor_documents`).

Why at the door, and why these caps:

* Python's JSON decoder, JSON-LD expansion and `copy.deepcopy` recurse once per level:
  deep nesting would exhaust the stack. The depth is counted on the bytes, before any of
  them runs.
* PostgreSQL refuses a NUL character, NaN, an infinity and an unpaired surrogate, which
  SQLite stores without complaint; columns have fixed sizes (`storage/models.py`). Refusing
  them here makes both back-ends answer the same.
* An incoming activity is applied in a transaction shared with others (group commit), and
  the cost of reading it grows with its arrays (JSON-LD expansion of 14,000 tags takes most
  of a second). Capping arrays bounds that cost before the transaction opens.

Each refusal is an `InputRefused` whose reason names the field; the inbox answers it with 400.
The caps are generous for every real server whose documents we have seen
(`../shared/fixtures`: at most 7 levels deep, 171 recipients, a 36,000-character post).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import String

from talentfed.storage.models import NAME, URI, Activity

__all__ = [
    "FIELD_ITEMS",
    "MAX_CONTAINERS",
    "MAX_DEPTH",
    "MAX_HOST",
    "MAX_INTEGER",
    "MAX_IRI",
    "MAX_ITEMS",
    "MAX_MARKDOWN",
    "MAX_MEDIA_DESCRIPTION",
    "MAX_NAME",
    "MAX_POST_MEDIA",
    "MAX_RECIPIENTS",
    "MAX_STRING",
    "MAX_TYPE",
    "RECIPIENT_FIELDS",
    "InputRefused",
    "check_activity",
    "check_document",
    "check_string",
    "http_url",
    "iri",
    "parse_json",
    "unstorable",
]

# --- the caps ----------------------------------------------------------------------------


def _length(column_type: object) -> int:
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"{column_type!r} is not a string column type with a length")
    return column_type.length


# What fits the columns remote values are stored in: read from the models, never copied.
MAX_IRI: int = _length(URI)  # ids and links (2048)
MAX_TYPE: int = _length(Activity.__table__.c.type.type)  # an activity's or a post's type (32)
MAX_NAME: int = _length(NAME)  # a handle's username, a host (255)
MAX_HOST: int = MAX_NAME  # the host[:port] of a URL: actors.domain, delivery_jobs.host

MAX_DEPTH = 32  # nesting of arrays and objects; real documents use at most 7
MAX_CONTAINERS = 100_000  # arrays and objects in one document: counted before decoding
MAX_STRING = 262_144  # characters in any string: more than a 100,000-character post as HTML
MAX_MARKDOWN = 100_000  # characters of Markdown we render ourselves: what a member may write
MAX_INTEGER = 2**63 - 1  # a number beyond a 64-bit integer is nothing we read
MAX_ITEMS = 1_000  # entries in any array not named below
# Entries of the arrays we read, by term (whatever prefix the sender gives it).
FIELD_ITEMS: dict[str, int] = {
    "tag": 200,  # hashtags, mentions and emojis of one post
    "attachment": 64,  # media of a post, profile fields of an actor
    "skills": 100,  # talentfed's skills of a profile or a project call
    "items": 10_000,  # a collection page: some servers put everything in one
    "orderedItems": 10_000,
}
# Addressees of one object, all fields together (a Mastodon post names a few; 171 seen).
RECIPIENT_FIELDS = ("to", "cc", "bto", "bcc", "audience")
MAX_RECIPIENTS = 1_000

# Media of a post: its alt text (longer is cut, as Mastodon cuts it) and how many we keep of a
# remote post (Mastodon keeps 16); our members attach at most 4 (domain/media.py).
MAX_MEDIA_DESCRIPTION = 1_500
MAX_POST_MEDIA = 16

# A report's comment: what a member may write (Mastodon's limit); a received one is cut to it.
MAX_REPORT_COMMENT = 1_000
# Accounts and posts one report may name (Mastodon's report form offers the account's latest posts).
MAX_REPORTED_POSTS = 100

_SMALLEST_ARRAY_CAP = min(MAX_ITEMS, *FIELD_ITEMS.values())


class InputRefused(ValueError):
    """A document is over a cap or holds what we never store; `reason` names the field."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field  # a path such as `object.tag.3.name`, when it is inside the document

    @property
    def reason(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail

    def __str__(self) -> str:
        return self.reason

    def within(self, key: str | int) -> InputRefused:
        """The same refusal, one level up: `tag.3.name` instead of `3.name`."""
        return InputRefused(self.detail, f"{key}.{self.field}" if self.field else str(key))


# --- parsing ------------------------------------------------------------------------------


def parse_json(body: bytes | str) -> Any:
    """The JSON value of a remote document, or `InputRefused` saying what is wrong with it.

    Checked in this order: UTF-8, nesting depth (on the bytes, before the decoder recurses),
    JSON syntax and numbers (finite, within 64 bits), then every value (`check_document`).
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        text = raw.decode("utf-8-sig")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError:
        raise InputRefused("not JSON: not UTF-8") from None
    _check_depth(raw)
    # A hook per integer doubles the decoder's time: only when a long run of digits could be one.
    parse_int = _bounded_int if _LONG_DIGITS.search(raw) else None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=parse_int)
    except InputRefused:
        raise
    except RecursionError:  # _check_depth makes this unreachable; a 500 would be worse
        raise InputRefused(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise InputRefused(f"not JSON: {exc}") from None
    check_document(value)
    return value


_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (len(str(MAX_INTEGER)) + 1))
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_PAIR = re.compile(rb"\[\]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")


def _check_depth(raw: bytes) -> None:
    """Refuse nesting deeper than MAX_DEPTH (and more than MAX_CONTAINERS arrays and objects),
    in linear time and without recursion.

    Escapes are dropped first, so that what is left of each string is `"…"` without a quote
    inside; then the strings; then everything but brackets. Each pass over what remains
    removes the innermost pairs, one level: a document that still has pairs after MAX_DEPTH
    passes is deeper than that. Brackets that never pair (`[[[[`) are not JSON at all.
    """
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(_SQUARE, _NOT_BRACKET)
    if brackets.count(b"[") > MAX_CONTAINERS:  # decoding them all would be the expensive part
        raise InputRefused(f"more than {MAX_CONTAINERS} arrays and objects")
    for _ in range(MAX_DEPTH):
        reduced = _PAIR.sub(b"", brackets)
        if reduced == brackets:
            break
        brackets = reduced
    else:
        if _PAIR.search(brackets):
            raise InputRefused(f"nested deeper than {MAX_DEPTH} levels")
    if brackets.count(b"[") > MAX_DEPTH:  # unclosed, but the decoder would recurse into them
        raise InputRefused(f"nested deeper than {MAX_DEPTH} levels")


def _no_constant(name: str) -> Any:
    raise InputRefused(f"{name} is not a number we store (PostgreSQL refuses it)")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InputRefused(f"the number {text[:40]} is too large")
    return number


def _bounded_int(text: str) -> int:
    # Compared by length first: int() of a 100,000-digit string is itself slow.
    if len(text.lstrip("-")) > len(str(MAX_INTEGER)) or abs(number := int(text)) > MAX_INTEGER:
        raise InputRefused(f"the number {text[:40]} is out of range (at most 64 bits)")
    return number


# --- every value ----------------------------------------------------------------------------


def check_document(value: Any) -> None:
    """Refuse strings, arrays and addressing over their caps anywhere in a parsed document."""
    if isinstance(value, str):
        check_string(value)
    elif isinstance(value, dict):
        _check_object(value)
    elif isinstance(value, list):
        _check_array(value, MAX_ITEMS)


_NESTED = frozenset({str, dict, list})  # what json.loads makes that can hold something refused


def check_string(text: str) -> None:
    """A string both back-ends store (no NUL, no unpaired surrogate) within MAX_STRING."""
    if len(text) > MAX_STRING:
        raise InputRefused(f"a string of {len(text)} characters (at most {MAX_STRING})")
    if problem := unstorable(text):
        raise InputRefused(problem)


def unstorable(text: str) -> str | None:
    """Why PostgreSQL would refuse to store `text` (SQLite takes it), or None. Also the check
    on what members write (domain/posts.check_draft), so both back-ends answer alike."""
    if "\x00" in text:
        return "a NUL character (PostgreSQL refuses it)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "an unpaired surrogate (\\ud800-\\udfff) is not text"
    return None


def _check_array(items: list[Any], cap: int) -> None:
    if len(items) > cap:
        raise InputRefused(f"{len(items)} entries (at most {cap})")
    for index, item in enumerate(items):
        if type(item) in _NESTED:
            try:
                check_document(item)
            except InputRefused as exc:
                raise exc.within(index) from None


def _check_object(document: dict[str, Any]) -> None:
    recipients = 0
    for key, item in document.items():
        _check_key(key)  # a bad name is the object's fault: the path must not repeat it
        try:
            if isinstance(item, list):
                cap = MAX_ITEMS
                if len(item) > _SMALLEST_ARRAY_CAP:
                    cap = FIELD_ITEMS.get(_term(key), MAX_ITEMS)
                _check_array(item, cap)
            elif isinstance(item, str | dict):
                check_document(item)
        except InputRefused as exc:
            raise exc.within(key) from None
        if key in RECIPIENT_FIELDS:
            recipients += len(item) if isinstance(item, list) else 1
    if recipients > MAX_RECIPIENTS:
        fields = "/".join(RECIPIENT_FIELDS)
        raise InputRefused(f"{recipients} recipients in {fields} (at most {MAX_RECIPIENTS})")
    _check_markdown(document)


def _check_key(key: str) -> None:
    if len(key) > MAX_IRI:
        raise InputRefused(f"a property name of {len(key)} characters (at most {MAX_IRI})")
    check_string(key)


def _term(key: str) -> str:
    """`tag`, `as:tag`, `https://www.w3.org/ns/activitystreams#tag` → `tag`."""
    return re.split(r"[:#/]", key)[-1]


def _check_markdown(document: dict[str, Any]) -> None:
    """Markdown is rendered by us (`text.render_markdown`), which costs far more than HTML."""
    media_type, content = document.get("mediaType"), document.get("content")
    if (
        isinstance(media_type, str)
        and media_type.strip().lower().startswith("text/markdown")
        and isinstance(content, str)
        and len(content) > MAX_MARKDOWN
    ):
        raise InputRefused(f"Markdown of {len(content)} characters (at most {MAX_MARKDOWN})", "content")


# --- an activity ---------------------------------------------------------------------------


def check_activity(activity: dict[str, Any]) -> None:
    """What the inbox stores as columns of `activities` must fit them: id, type, actor, object."""
    from talentfed.federation.as_values import id_of, types_of  # as_values uses http_url below

    if http_url(activity.get("id")) is None:
        raise InputRefused(_why_not_a_link(activity.get("id")), "id")
    for name in types_of(activity):
        if len(name) > MAX_TYPE:
            raise InputRefused(f"{name[:40]!r}… is longer than {MAX_TYPE} characters", "type")
    for field in ("actor", "object"):
        found = id_of(activity.get(field))
        if found is not None and iri(found) is None:
            raise InputRefused(_why_not_a_link(found, any_scheme=True), field)


def _why_not_a_link(value: Any, *, any_scheme: bool = False) -> str:
    if isinstance(value, str) and len(value) > MAX_IRI:
        return f"an IRI of {len(value)} characters (at most {MAX_IRI})"
    if any_scheme:
        return "not an IRI (whitespace or control characters)"
    return f"not an http(s) URL with a host of at most {MAX_HOST} characters"


# --- links ------------------------------------------------------------------------------


def iri(value: Any) -> str | None:
    """`value` if it is a string that fits our IRI columns and has no whitespace or control
    characters (any scheme: `tag:` and `urn:` ids exist), else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_IRI:
        return None
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        return None
    return value


def http_url(value: Any) -> str | None:
    """`value` if it is an http(s) URL with a host that fits our columns, else None.

    The only links that leave a parser: whatever we store may be rendered as a link, and a
    `javascript:` or `data:` URL must never be.
    """
    found = iri(value)
    if found is None or not found.startswith(("https://", "http://")):
        return None
    try:
        host = urlsplit(found).netloc
    except ValueError:  # an invalid IPv6 literal
        return None
    return found if host and len(host) <= MAX_HOST else None
