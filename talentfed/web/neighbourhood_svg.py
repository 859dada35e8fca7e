"""A member's neighbourhood as a standalone SVG, drawn on the server (no JavaScript).

`render_neighbourhood` is a pure function of a `Neighbourhood` (talentfed.domain.neighbourhood):
the same input always gives the same bytes. The centre sits in the middle; the neighbours sit on
one ring, or on two when there are more than `SINGLE_RING_MAX` (the strongest on the inner one).
Around each ring they are grouped by domain, so each institution's people sit together, one
colour per domain. Lines to the centre show follows (solid, an arrow pointing at the one
followed) and interactions (dashed when there is no follow); thicker lines, more interactions.
Fainter lines join neighbours who follow or interact with each other.

Theming: every element carries `nb-*` classes for the page stylesheet, and presentation
attributes as defaults so the picture also works on its own. Text and lines are drawn in
`currentColor`, so an inline SVG takes the page's text colour (light and dark themes alike); the
domain colours are mid-tones with at least 3:1 contrast on white and on near-black.

Everything that comes from other servers (names, handles, domains, URLs) is XML-escaped, stripped
of characters XML cannot carry and of bidirectional overrides, and truncated; only http(s) and
same-site paths become links.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from html import escape

from talentfed.domain.neighbourhood import Edge, Neighbour, Neighbourhood, Person

PALETTE = ("#2f7ee0", "#ea580c", "#16a34a", "#8b5cf6", "#db2777", "#0891b2", "#a16207")
OTHER_COLOUR = "#7c8594"
SINGLE_RING_MAX = 10
INNER_RING_MAX = 8
MIN_SIZE = 240
BASE_SIZE = 480.0
CHAR_WIDTH = 0.6  # of the font size: a generous average, so labels stay inside the picture
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

_UNSAFE_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]"
)


# --- text -----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Only characters XML can carry, no bidi overrides, whitespace collapsed."""
    return " ".join(_UNSAFE_TEXT.sub("", text).split())


def _truncate(text: str, chars: int) -> str:
    text = _clean(text)
    if len(text) <= chars:
        return text
    return text[: max(1, chars - 1)].rstrip() + "…"


def _x(text: str, chars: int = 200) -> str:
    """Text for XML content or a quoted attribute."""
    return escape(_truncate(text, chars), quote=True)


def _href(url: str) -> str | None:
    url = _clean(url)
    if url.lower().startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


def _num(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# --- domains and their colours --------------------------------------------------------------


@dataclass(frozen=True)
class _Domain:
    name: str  # the domain, or "N other institutions" for the grey bucket
    count: int
    colour: str
    css: str  # nb-domain-0 … nb-domain-6, or nb-domain-other


def _domains(n: Neighbourhood) -> tuple[list[_Domain], dict[str, _Domain]]:
    """Legend entries in drawing order, and each domain's entry: the centre's domain first, then
    the most represented; past the palette, the rest share one grey entry."""
    counts = Counter(neighbour.domain for neighbour in n.neighbours)
    counts.setdefault(n.centre.domain, 0)
    order = sorted(counts, key=lambda d: (d != n.centre.domain, -counts[d], d))
    own = order if len(order) <= len(PALETTE) + 1 else order[: len(PALETTE)]
    entries = [
        _Domain(d, counts[d], PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR, _domain_class(i))
        for i, d in enumerate(own)
    ]
    of = {entry.name: entry for entry in entries}
    rest = order[len(own) :]
    if rest:
        other = _Domain(
            _plural(len(rest), "other institution"),
            sum(counts[d] for d in rest),
            OTHER_COLOUR,
            "nb-domain-other",
        )
        entries.append(other)
        of.update(dict.fromkeys(rest, other))
    return entries, of


def _domain_class(index: int) -> str:
    return f"nb-domain-{index}" if index < len(PALETTE) else "nb-domain-other"


# --- description ----------------------------------------------------------------------------


def describe_neighbourhood(n: Neighbourhood) -> str:
    """One paragraph saying what the picture shows (its <desc>; also usable as a caption)."""
    name = _truncate(n.centre.name, 80)
    shown = n.neighbours
    if not shown:
        if n.hidden:
            return f"{name} has {_plural(n.hidden, 'connection')} that cannot be shown."
        return f"No connections observed yet for {name}."
    domains = Counter(neighbour.domain for neighbour in shown)
    following = sum(x.followed_by_centre for x in shown)
    followers = sum(x.follows_centre for x in shown)
    mutual = sum(x.mutual for x in shown)
    interacted = [x for x in shown if x.interactions]
    parts = [
        f"Connections of {name} observed by this server: "
        f"{_plural(len(shown), 'person', 'people')} from {_plural(len(domains), 'institution')}.",
        f"{name} follows {following} of them and is followed by {followers};"
        f" {name} and {mutual} of them follow each other.",
    ]
    if interacted:
        total = sum(x.interactions for x in interacted)
        parts.append(
            f"{name} has interacted with {len(interacted)} of them"
            f" ({_plural(total, 'reply, like, boost or mention', 'replies, likes, boosts and mentions')})."
        )
    else:
        parts.append(f"{name} has not interacted with any of them.")
    if n.edges:
        parts.append(f"Among themselves they share {_plural(len(n.edges), 'connection')}.")
    by_domain = sorted(domains.items(), key=lambda item: (-item[1], item[0]))
    parts.append("By institution: " + ", ".join(f"{_truncate(d, 60)} {c}" for d, c in by_domain) + ".")
    if n.hidden:
        parts.append(f"{n.hidden} more not shown.")
    return " ".join(parts)


def _relation(neighbour: Neighbour, centre: str) -> str:
    if neighbour.mutual:
        ties = [f"{centre} and they follow each other"]
    elif neighbour.follows_centre:
        ties = [f"follows {centre}"]
    elif neighbour.followed_by_centre:
        ties = [f"followed by {centre}"]
    else:
        ties = []
    if neighbour.interactions:
        ties.append(_plural(neighbour.interactions, "interaction"))
    return "; ".join(ties)


# --- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    neighbour: Neighbour
    x: float
    y: float
    r: float
    angle: float
    inner: bool  # on the inner of two rings
    spacing: float  # distance to the next node on the ring
    domain: _Domain


def _node_radius(neighbour: Neighbour, scale: float) -> float:
    extra = min(4.0, 1.5 * math.log2(1 + neighbour.interactions)) + (1.5 if neighbour.mutual else 0.0)
    return (7.0 + extra) * scale


def _outer_radius(n: Neighbourhood, size: int) -> float:
    return (0.28 if len(n.neighbours) <= SINGLE_RING_MAX else 0.31) * size


def _layout(n: Neighbourhood, domains: dict[str, _Domain], size: int, cx: float, cy: float) -> list[_Placed]:
    scale = size / BASE_SIZE
    count = len(n.neighbours)
    if count <= SINGLE_RING_MAX:
        rings = [(list(n.neighbours), _outer_radius(n, size))]
    else:
        inner = min(INNER_RING_MAX, math.ceil(count / 3))
        rings = [
            (list(n.neighbours[:inner]), 0.16 * size),
            (list(n.neighbours[inner:]), _outer_radius(n, size)),
        ]
    strength = {neighbour.id: rank for rank, neighbour in enumerate(n.neighbours)}
    slot = {domain: index for index, domain in enumerate(domains)}  # the legend order
    placed = []
    for ring, (members, radius) in enumerate(rings):
        # Grouped by domain in legend order, strongest first within a domain; clockwise from the top.
        members.sort(key=lambda x: (slot[x.domain], strength[x.id]))
        step = 2 * math.pi / len(members)
        offset = step / 2 if ring == 1 else 0.0
        for index, neighbour in enumerate(members):
            angle = -math.pi / 2 + offset + index * step
            placed.append(
                _Placed(
                    neighbour,
                    cx + radius * math.cos(angle),
                    cy + radius * math.sin(angle),
                    _node_radius(neighbour, scale),
                    angle,
                    len(rings) == 2 and ring == 0,
                    2 * radius * math.sin(step / 2) if len(members) > 1 else size,
                    domains[neighbour.domain],
                )
            )
    return placed


def _edge_width(interactions: int, scale: float, base: float = 1.0) -> float:
    return (base + min(3.0, math.log2(1 + interactions))) * scale


def _segment(x1: float, y1: float, r1: float, x2: float, y2: float, r2: float) -> tuple[float, ...] | None:
    """The part of the line between two circles that lies outside both."""
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy)
    if length <= r1 + r2:
        return None
    ux, uy = dx / length, dy / length
    return x1 + ux * r1, y1 + uy * r1, x2 - ux * r2, y2 - uy * r2


# --- drawing --------------------------------------------------------------------------------


def render_neighbourhood(n: Neighbourhood, *, size: int = 480) -> str:
    """The neighbourhood as a standalone SVG document (a string); `size` is its width in px."""
    if size < MIN_SIZE:
        raise ValueError(f"size: expected at least {MIN_SIZE}, got {size}")
    scale = size / BASE_SIZE
    prefix = f"nb{int(n.centre.id)}"
    entries, domains = _domains(n)
    centre_name = _clean(n.centre.name) or _clean(n.centre.handle)
    caption_height = 30 * scale
    graph_height = 2 * (_outer_radius(n, size) + 42 * scale) if n.neighbours else 150 * scale
    cx, cy = size / 2, caption_height + graph_height / 2
    centre_r = 18 * scale

    body: list[str] = [_caption(n.centre, size, scale)]
    legend, legend_height = _legend(n, entries, size, caption_height + graph_height, prefix)
    height = caption_height + graph_height + legend_height

    if n.neighbours:
        placed = _layout(n, domains, size, cx, cy)
        at = {p.neighbour.id: p for p in placed}
        body.append('<g class="nb-edges nb-peer-edges">')
        body.extend(_peer_edge(edge, at, scale) for edge in n.edges if edge.a in at and edge.b in at)
        body.append("</g>")
        body.append('<g class="nb-edges nb-centre-edges">')
        body.extend(_centre_edge(p, cx, cy, centre_r, scale, prefix) for p in placed)
        body.append("</g>")
        body.append('<g class="nb-nodes">')
        body.extend(_node(p, centre_name, size, scale) for p in placed)
        body.append("</g>")

    body.append(_centre(n.centre, domains[n.centre.domain], cx, cy, centre_r, scale))
    if not n.neighbours:
        message = "No connections to show" if n.hidden else "No connections observed yet"
        body.append(
            f'<text class="nb-empty" x="{_num(cx)}" y="{_num(cy + centre_r + 24 * scale)}"'
            f' text-anchor="middle" font-size="{_num(12 * scale)}" fill="currentColor"'
            f' fill-opacity="0.7">{message}</text>'
        )

    title = f"Connections of {_truncate(centre_name, 80)} ({_truncate(n.centre.handle, 80)})"
    arrow = 8 * scale
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nb-graph" role="img"'
        f' width="{size}" height="{_num(height)}" viewBox="0 0 {size} {_num(height)}"'
        f' aria-labelledby="{prefix}-title" aria-describedby="{prefix}-desc"'
        f' font-family="{escape(FONT)}" font-size="{_num(11 * scale)}">'
    )
    defs = (
        "<defs>"
        f'<marker id="{prefix}-arrow" class="nb-marker" viewBox="0 0 10 10" refX="10" refY="5"'
        f' markerWidth="{_num(arrow)}" markerHeight="{_num(arrow)}" markerUnits="userSpaceOnUse"'
        ' orient="auto"><path class="nb-arrow" d="M0,0 L10,5 L0,10 z" fill="currentColor"'
        ' fill-opacity="0.7"/></marker>'
        f'<marker id="{prefix}-arrow-back" class="nb-marker" viewBox="0 0 10 10" refX="0" refY="5"'
        f' markerWidth="{_num(arrow)}" markerHeight="{_num(arrow)}" markerUnits="userSpaceOnUse"'
        ' orient="auto"><path class="nb-arrow" d="M10,0 L0,5 L10,10 z" fill="currentColor"'
        ' fill-opacity="0.7"/></marker>'
        "</defs>"
    )
    return "\n".join(
        [
            head,
            f'<title id="{prefix}-title">{escape(title)}</title>',
            f'<desc id="{prefix}-desc">{escape(describe_neighbourhood(n))}</desc>',
            defs,
            *body,
            legend,
            "</svg>",
        ]
    )


def _peer_edge(edge: Edge, at: dict[int, _Placed], scale: float) -> str:
    a, b = at[edge.a], at[edge.b]
    segment = _segment(a.x, a.y, a.r + 1 * scale, b.x, b.y, b.r + 1 * scale)
    if segment is None:
        return ""
    kind = "nb-follow" if edge.follows else "nb-interaction"
    dash = "" if edge.follows else f' stroke-dasharray="{_num(3 * scale)} {_num(3 * scale)}"'
    x1, y1, x2, y2 = segment
    return (
        f'<line class="nb-edge nb-peer {kind}" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}"'
        f' y2="{_num(y2)}" stroke="currentColor" stroke-opacity="0.2"'
        f' stroke-width="{_num(_edge_width(edge.interactions, scale, 0.75))}"{dash}/>'
    )


def _centre_edge(p: _Placed, cx: float, cy: float, centre_r: float, scale: float, prefix: str) -> str:
    neighbour = p.neighbour
    segment = _segment(cx, cy, centre_r + 2 * scale, p.x, p.y, p.r + 2 * scale)
    if segment is None:
        return ""
    follows = neighbour.follows_centre or neighbour.followed_by_centre
    classes = ["nb-edge", "nb-centre-edge", "nb-follow" if follows else "nb-interaction"]
    if neighbour.mutual:
        classes.append("nb-mutual")
    extra = ""
    if not follows:
        extra += f' stroke-dasharray="{_num(4 * scale)} {_num(3 * scale)}"'
    if neighbour.followed_by_centre:
        extra += f' marker-end="url(#{prefix}-arrow)"'
    if neighbour.follows_centre:
        extra += f' marker-start="url(#{prefix}-arrow-back)"'
    x1, y1, x2, y2 = segment
    return (
        f'<line class="{" ".join(classes)}" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}"'
        f' y2="{_num(y2)}" stroke="currentColor" stroke-opacity="0.55"'
        f' stroke-width="{_num(_edge_width(neighbour.interactions, scale))}"{extra}/>'
    )


def _label_position(p: _Placed, size: int, font: float, scale: float) -> tuple[float, float, str, int]:
    """Where a neighbour's label goes (outward from the centre), its anchor, and how many
    characters fit there without leaving the picture or running into the next node."""
    gap, margin = 4 * scale, 6 * scale
    cos, sin = math.cos(p.angle), math.sin(p.angle)
    if cos > 0.35:
        x, y, anchor = p.x + p.r + gap, p.y + font * 0.35, "start"
        room = size - margin - x
    elif cos < -0.35:
        x, y, anchor = p.x - p.r - gap, p.y + font * 0.35, "end"
        room = x - margin
    else:
        x, anchor = p.x, "middle"
        y = p.y + p.r + gap + font * 0.8 if sin > 0 else p.y - p.r - gap
        room = min(p.spacing * 0.95, 2 * min(x - margin, size - margin - x))
    if p.inner and anchor != "middle":
        room = min(room, 0.14 * size)  # inner ring: stay clear of the outer one
    return x, y, anchor, max(3, min(24, int(room / (CHAR_WIDTH * font))))


def _node(p: _Placed, centre_name: str, size: int, scale: float) -> str:
    neighbour = p.neighbour
    font = (10 if p.inner else 11) * scale
    x, y, anchor, chars = _label_position(p, size, font, scale)
    classes = ["nb-node", "nb-local" if neighbour.local else "nb-remote", p.domain.css]
    for flag, name in (
        (neighbour.mutual, "nb-mutual"),
        (neighbour.follows_centre, "nb-follower"),
        (neighbour.followed_by_centre, "nb-following"),
        (neighbour.interactions > 0, "nb-interacted"),
    ):
        if flag:
            classes.append(name)
    relation = _relation(neighbour, _truncate(centre_name, 60))
    tooltip = f"{_truncate(neighbour.name, 200)} ({_truncate(neighbour.handle, 200)})" + (
        f" — {relation}" if relation else ""
    )
    stroke_width = (2.0 if neighbour.mutual else 1.0) * scale
    inner = (
        f"<title>{escape(tooltip)}</title>"
        f'<circle class="{" ".join(classes)}" cx="{_num(p.x)}" cy="{_num(p.y)}" r="{_num(p.r)}"'
        f' fill="{p.domain.colour}" stroke="currentColor" stroke-opacity="0.6"'
        f' stroke-width="{_num(stroke_width)}"/>'
        f'<text class="nb-label" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"'
        f' font-size="{_num(font)}" fill="currentColor">{_x(neighbour.name, chars)}</text>'
    )
    href = _href(neighbour.url)
    if href is None:
        return f'<g class="nb-person">{inner}</g>'
    return f'<a class="nb-link nb-person" href="{escape(href)}">{inner}</a>'


def _initials(name: str) -> str:
    words = [word for word in name.split() if word[:1].isalnum()] or name.split()
    return "".join(word[0] for word in words[:2]).upper()


def _caption(centre: Person, size: int, scale: float) -> str:
    font = 13 * scale
    chars = int((size - 12 * scale) / (CHAR_WIDTH * font))
    name = _truncate(centre.name, chars)
    handle = _truncate(centre.handle, max(0, chars - len(name) - 1))
    return (
        f'<text class="nb-caption" x="{_num(size / 2)}" y="{_num(20 * scale)}" text-anchor="middle"'
        f' font-size="{_num(font)}" fill="currentColor"><tspan font-weight="600">{escape(name)}</tspan>'
        + (f' <tspan class="nb-handle" fill-opacity="0.7">{escape(handle)}</tspan>' if handle else "")
        + "</text>"
    )


def _centre(centre: Person, domain: _Domain, cx: float, cy: float, r: float, scale: float) -> str:
    initials = _initials(_clean(centre.name)) or "?"
    return (
        '<g class="nb-person nb-centre">'
        f"<title>{_x(centre.name, 100)} ({_x(centre.handle, 100)})</title>"
        f'<circle class="nb-node nb-centre {domain.css}" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}"'
        f' fill="{domain.colour}" stroke="currentColor" stroke-width="{_num(2 * scale)}"/>'
        f'<text class="nb-initials" x="{_num(cx)}" y="{_num(cy + 4.5 * scale)}" text-anchor="middle"'
        f' font-size="{_num(13 * scale)}" font-weight="700" fill="#ffffff">{escape(initials)}</text>'
        "</g>"
    )


# --- legend ---------------------------------------------------------------------------------


def _legend(
    n: Neighbourhood, entries: list[_Domain], size: int, top: float, prefix: str
) -> tuple[str, float]:
    """The key below the graph: line styles, one entry per domain, and the "+N more" note."""
    scale = size / BASE_SIZE
    font, row, pad = 11 * scale, 18 * scale, 10 * scale
    columns = 2 if size >= 360 else 1
    column_width = (size - 2 * pad) / columns
    items: list[str] = []
    y = top + pad
    rows = 0

    if n.neighbours:
        line_y = y + row / 2
        x0 = pad
        items.append('<g class="nb-legend-edges">')
        items.append(
            f'<line class="nb-edge nb-follow" x1="{_num(x0)}" y1="{_num(line_y)}"'
            f' x2="{_num(x0 + 24 * scale)}" y2="{_num(line_y)}" stroke="currentColor" stroke-opacity="0.55"'
            f' stroke-width="{_num(1.5 * scale)}" marker-end="url(#{prefix}-arrow)"/>'
            f'<text class="nb-legend-label" x="{_num(x0 + 30 * scale)}" y="{_num(line_y + font * 0.35)}"'
            ' fill="currentColor">follows</text>'
        )
        x1 = pad + column_width if columns == 2 else pad + 110 * scale
        items.append(
            f'<line class="nb-edge nb-interaction" x1="{_num(x1)}" y1="{_num(line_y)}"'
            f' x2="{_num(x1 + 24 * scale)}" y2="{_num(line_y)}" stroke="currentColor" stroke-opacity="0.55"'
            f' stroke-width="{_num(1.5 * scale)}" stroke-dasharray="{_num(4 * scale)} {_num(3 * scale)}"/>'
            f'<text class="nb-legend-label" x="{_num(x1 + 30 * scale)}" y="{_num(line_y + font * 0.35)}"'
            ' fill="currentColor">interacted (thicker: more)</text>'
        )
        items.append("</g>")
        rows += 1
        items.append('<g class="nb-legend-domains">')
        chars = max(6, int((column_width - 24 * scale) / (CHAR_WIDTH * font)))
        for index, entry in enumerate(entries):
            column, line = index % columns, rows + index // columns
            ex = pad + column * column_width
            ey = y + line * row + row / 2
            label = entry.name if entry.css == "nb-domain-other" else _clean(entry.name)
            count = f" ({entry.count})" if entry.count else ""
            items.append(
                f'<g class="nb-legend-item {entry.css}">'
                f'<circle class="nb-swatch {entry.css}" cx="{_num(ex + 6 * scale)}" cy="{_num(ey)}"'
                f' r="{_num(6 * scale)}" fill="{entry.colour}"/>'
                f'<text class="nb-legend-label" x="{_num(ex + 18 * scale)}" y="{_num(ey + font * 0.35)}"'
                f' fill="currentColor">{_x(label + count, chars)}</text>'
                "</g>"
            )
        items.append("</g>")
        rows += math.ceil(len(entries) / columns)

    if n.hidden:
        more = (
            f"+{n.hidden} more not shown" if n.neighbours else f"{_plural(n.hidden, 'connection')} not shown"
        )
        x, anchor = (size - pad, "end") if n.neighbours else (size / 2, "middle")
        items.append(
            f'<text class="nb-more" x="{_num(x)}" y="{_num(y + rows * row + row / 2 + font * 0.35)}"'
            f' text-anchor="{anchor}" fill="currentColor" fill-opacity="0.75">{escape(more)}</text>'
        )
        rows += 1

    if not rows:
        return "", 0.0
    height = rows * row + 2 * pad
    return '<g class="nb-legend">' + "".join(items) + "</g>", height
