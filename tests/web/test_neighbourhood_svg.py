"""The neighbourhood picture: valid, accessible, escaped, inside its box, and the same every time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from talentfed.domain.neighbourhood import Edge, Neighbour, Neighbourhood, Person
from talentfed.web.neighbourhood_svg import (
    CHAR_WIDTH,
    PALETTE,
    describe_neighbourhood,
    render_neighbourhood,
)

NS = "{http://www.w3.org/2000/svg}"
CENTRE = Person(1, "Ada Lovelace", "@ada@uni.example", "https://uni.example/@ada", "uni.example", True)
DOMAINS = ("uni.example", "lab.example", "inst.example", "far.example")


def _neighbour(
    index: int,
    domain: str = "lab.example",
    *,
    name: str | None = None,
    url: str | None = None,
    follows: bool = False,
    followed: bool = False,
    interactions: int = 0,
) -> Neighbour:
    return Neighbour(
        id=100 + index,
        name=name if name is not None else f"Person {index}",
        handle=f"@p{index}@{domain}",
        url=url if url is not None else f"https://{domain}/@p{index}",
        domain=domain,
        local=domain == CENTRE.domain,
        follows_centre=follows,
        followed_by_centre=followed,
        interactions=interactions,
    )


def _crowd(count: int, *, hidden: int = 0, domains: tuple[str, ...] = DOMAINS) -> Neighbourhood:
    people = tuple(
        _neighbour(
            i,
            domains[i % len(domains)],
            name=f"Researcher number {i} with a long name",
            follows=i % 2 == 0,
            followed=i % 3 != 1,
            interactions=(i * 7) % 11,
        )
        for i in range(count)
    )
    edges = tuple(Edge(100 + i, 100 + i + 3, True, i % 2 == 0, i % 4) for i in range(0, max(0, count - 3), 2))
    return Neighbourhood(CENTRE, people, edges, hidden)


def _small() -> Neighbourhood:
    """kim: mutual, 3 interactions; lee follows ada; grace is followed by ada; una: interactions only."""
    people = (
        _neighbour(1, name="Kim", follows=True, followed=True, interactions=3),
        _neighbour(2, "uni.example", name="Grace", followed=True),
        _neighbour(3, name="Lee", follows=True),
        _neighbour(4, "far.example", name="Una", interactions=4),
    )
    return Neighbourhood(CENTRE, people, (Edge(101, 103, True, False, 2),), 0)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _viewbox(root: ET.Element) -> tuple[float, float]:
    x, y, width, height = (float(v) for v in root.get("viewBox").split())
    assert (x, y) == (0, 0)
    assert float(root.get("width")) == width and float(root.get("height")) == height
    return width, height


def _classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def _links(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{NS}a"))


def test_a_valid_accessible_svg() -> None:
    svg = render_neighbourhood(_small())
    root = _parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert "Ada Lovelace" in title.text and "@ada@uni.example" in title.text
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    for reference in re.findall(r"url\(#([^)]+)\)", svg):
        assert reference in ids


def test_the_description_summarises_the_picture() -> None:
    desc = describe_neighbourhood(_small())
    assert "4 people from 3 institutions" in desc
    assert "Ada Lovelace follows 2 of them and is followed by 2" in desc
    assert "Ada Lovelace and 1 of them follow each other" in desc
    assert "interacted with 2 of them (7 replies, likes, boosts and mentions)" in desc
    assert "lab.example 2, far.example 1, uni.example 1" in desc
    assert "more not shown" not in desc
    root = _parse(render_neighbourhood(_small()))
    assert root.find(f"{NS}desc").text == desc
    assert "3 more not shown" in describe_neighbourhood(_crowd(5, hidden=3))


def test_each_shown_neighbour_is_one_link_with_its_own_tooltip() -> None:
    n = _crowd(24, hidden=7)
    root = _parse(render_neighbourhood(n))
    links = _links(root)
    assert len(links) == len(n.neighbours) == 24
    assert sorted(link.get("href") for link in links) == sorted(x.url for x in n.neighbours)
    for link in links:
        tooltip = link.find(f"{NS}title")
        assert tooltip is not None and tooltip.text
        (circle,) = link.iter(f"{NS}circle")
        assert "nb-node" in _classes(circle)
    kim = next(
        link for link in _links(_parse(render_neighbourhood(_small()))) if link.get("href").endswith("/@p1")
    )
    assert kim.find(f"{NS}title").text == (
        "Kim (@p1@lab.example) — Ada Lovelace and they follow each other; 3 interactions"
    )


def test_only_web_addresses_become_links() -> None:
    people = (
        _neighbour(1, url="javascript:alert(1)"),
        _neighbour(2, url="data:text/html,hi"),
        _neighbour(3, url="/@local"),
        _neighbour(4, url="//evil.example/x"),
        _neighbour(5, url="https://ok.example/@p5"),
    )
    root = _parse(render_neighbourhood(Neighbourhood(CENTRE, people, (), 0)))
    assert sorted(link.get("href") for link in _links(root)) == ["/@local", "https://ok.example/@p5"]
    people_drawn = [g for g in root.iter() if "nb-person" in _classes(g) and "nb-centre" not in _classes(g)]
    assert len(people_drawn) == 5


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "Tom & Jerry",
        "\"quoted\" 'name'",
        "]]> <![CDATA[ x",
        "bell\x07 and \x00nul \ufffe",
        "\u202eevil override",
    ],
)
def test_every_text_is_escaped(name: str) -> None:
    centre = Person(1, name, f"@{name}@uni.example", "https://uni.example/@x", "uni.example", True)
    people = (
        _neighbour(1, name=name, follows=True),
        _neighbour(2, f"{name}.example", name="x"),
    )
    svg = render_neighbourhood(Neighbourhood(centre, people, (), 2))
    assert "<script" not in svg and "<![CDATA[" not in svg
    assert "\x07" not in svg and "\x00" not in svg and "\u202e" not in svg
    root = _parse(svg)  # the XML parser accepts it
    texts = " ".join(t for element in root.iter() for t in (element.text, element.tail) if t)
    cleaned = " ".join(re.sub("[\x00\x07\ufffe\u202e]", "", name).split())
    assert cleaned[:8] in texts


def test_escaping_keeps_the_name_readable() -> None:
    people = (_neighbour(1, name="<b>Tom & Jerry</b>", follows=True),)
    svg = render_neighbourhood(Neighbourhood(CENTRE, people, (), 0))
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in svg
    label = next(t for t in _parse(svg).iter(f"{NS}text") if "nb-label" in _classes(t))
    assert label.text == "<b>Tom & Jerry</b>"


def test_long_labels_are_truncated_but_tooltips_keep_the_name() -> None:
    long = "Professor " + "Verylongname " * 10
    n = Neighbourhood(CENTRE, (_neighbour(1, name=long, follows=True),), (), 0)
    root = _parse(render_neighbourhood(n))
    label = next(t for t in root.iter(f"{NS}text") if "nb-label" in _classes(t))
    assert label.text.endswith("…") and len(label.text) < 30
    assert long.strip() in _links(root)[0].find(f"{NS}title").text


def test_a_legend_entry_per_domain_with_its_colour() -> None:
    n = _small()
    root = _parse(render_neighbourhood(n))
    items = [g for g in root.iter(f"{NS}g") if "nb-legend-item" in _classes(g)]
    labels = [g.find(f"{NS}text").text for g in items]
    assert labels == ["uni.example (1)", "lab.example (2)", "far.example (1)"]  # ours first, then by size
    swatches = [g.find(f"{NS}circle").get("fill") for g in items]
    assert swatches == list(PALETTE[:3])
    # each node has its domain's colour and class
    colour = dict(zip(["uni.example", "lab.example", "far.example"], PALETTE, strict=False))
    for link in _links(root):
        circle = link.find(f"{NS}circle")
        domain = link.get("href").split("/")[2]
        assert circle.get("fill") == colour[domain]
    centre = next(c for c in root.iter(f"{NS}circle") if "nb-centre" in _classes(c))
    assert centre.get("fill") == PALETTE[0] and "nb-domain-0" in _classes(centre)


def test_many_domains_share_one_grey_entry() -> None:
    domains = tuple(f"d{i}.example" for i in range(12))
    n = _crowd(12, domains=domains)
    root = _parse(render_neighbourhood(n))
    items = [g for g in root.iter(f"{NS}g") if "nb-legend-item" in _classes(g)]
    labels = [g.find(f"{NS}text").text for g in items]
    assert len(labels) == len(PALETTE) + 1
    assert labels[-1].startswith(f"{12 + 1 - len(PALETTE)} other institutions")
    assert len({g.find(f"{NS}circle").get("fill") for g in items}) == len(items)


def test_line_styles_tell_follows_from_interactions() -> None:
    root = _parse(render_neighbourhood(_small()))
    lines = [line for line in root.iter(f"{NS}line") if "nb-centre-edge" in _classes(line)]
    assert len(lines) == 4
    # drawn from the centre outwards: an arrow at the end points at someone the centre follows,
    # one at the start points back at the centre
    arrows = sorted((bool(line.get("marker-start")), bool(line.get("marker-end"))) for line in lines)
    assert arrows == [(False, False), (False, True), (True, False), (True, True)]
    mutual = next(line for line in lines if "nb-mutual" in _classes(line))
    assert mutual.get("marker-start") and mutual.get("marker-end") and "nb-follow" in _classes(mutual)
    interacted = next(line for line in lines if "nb-interaction" in _classes(line))
    assert interacted.get("stroke-dasharray") and not interacted.get("marker-end")
    follower = next(line for line in lines if line.get("marker-start") and not line.get("marker-end"))
    assert not follower.get("stroke-dasharray")
    assert float(interacted.get("stroke-width")) > float(follower.get("stroke-width"))  # 4 interactions vs 0
    peers = [line for line in root.iter(f"{NS}line") if "nb-peer" in _classes(line)]
    assert len(peers) == 1 and "nb-follow" in _classes(peers[0])


def test_an_empty_neighbourhood() -> None:
    n = Neighbourhood(CENTRE, (), (), 0)
    svg = render_neighbourhood(n)
    root = _parse(svg)
    assert root.get("role") == "img"
    assert "No connections observed yet" in svg
    assert _links(root) == []
    assert "nb-legend-item" not in svg and "more not shown" not in svg
    assert root.find(f"{NS}desc").text == "No connections observed yet for Ada Lovelace."
    _assert_inside(root)

    only_private = _parse(render_neighbourhood(Neighbourhood(CENTRE, (), (), 3)))
    texts = [t.text for t in only_private.iter(f"{NS}text")]
    assert "No connections to show" in texts and "3 connections not shown" in texts
    _assert_inside(only_private)


def test_hidden_neighbours_are_counted_in_a_note() -> None:
    root = _parse(render_neighbourhood(_crowd(24, hidden=9)))
    note = [t for t in root.iter(f"{NS}text") if "nb-more" in _classes(t)]
    assert [t.text for t in note] == ["+9 more not shown"]
    assert not [t for t in _parse(render_neighbourhood(_small())).iter() if "nb-more" in _classes(t)]


def _assert_inside(root: ET.Element) -> None:
    width, height = _viewbox(root)
    font_size = float(root.get("font-size"))
    for element in root.iter():
        tag = element.tag.removeprefix(NS)
        if tag == "circle":
            x, y, r = (float(element.get(k)) for k in ("cx", "cy", "r"))
            assert r <= x <= width - r and r <= y <= height - r, ET.tostring(element)
        elif tag == "line":
            for k in ("1", "2"):
                x, y = float(element.get("x" + k)), float(element.get("y" + k))
                assert 0 <= x <= width and 0 <= y <= height, ET.tostring(element)
        elif tag == "text":
            x, y = float(element.get("x")), float(element.get("y"))
            size = float(element.get("font-size") or font_size)
            text = "".join(element.itertext())
            extent = len(text) * CHAR_WIDTH * size
            anchor = element.get("text-anchor") or "start"
            left = {"start": x, "middle": x - extent / 2, "end": x - extent}[anchor]
            assert left >= -0.5 and left + extent <= width + 0.5, (text, left, extent)
            assert size * 0.7 <= y <= height, ET.tostring(element)


@pytest.mark.parametrize("size", [240, 480, 800])
@pytest.mark.parametrize("count", [1, 2, 7, 10, 11, 24, 40])
def test_everything_lies_inside_the_view_box(size: int, count: int) -> None:
    root = _parse(render_neighbourhood(_crowd(count, hidden=3), size=size))
    assert _viewbox(root)[0] == size
    _assert_inside(root)


def test_the_same_input_gives_the_same_picture() -> None:
    n = _crowd(24, hidden=2)
    first = render_neighbourhood(n)
    assert render_neighbourhood(_crowd(24, hidden=2)) == first
    assert render_neighbourhood(n, size=600) != first
    assert describe_neighbourhood(n) == describe_neighbourhood(_crowd(24, hidden=2))


def test_people_of_one_domain_sit_together() -> None:
    n = _crowd(8)
    root = _parse(render_neighbourhood(n))
    order = [link.get("href").split("/")[2] for link in _links(root)]  # drawn clockwise from the top
    runs = [domain for i, domain in enumerate(order) if i == 0 or order[i - 1] != domain]
    assert len(runs) == len(set(order))
    assert order[0] == CENTRE.domain


def test_classes_for_the_page_stylesheet() -> None:
    svg = render_neighbourhood(_small())
    root = _parse(svg)
    assert "nb-graph" in _classes(root)
    circles = {link.get("href").split("@")[-1]: _classes(link.find(f"{NS}circle")) for link in _links(root)}
    assert {"nb-node", "nb-remote", "nb-mutual", "nb-follower", "nb-following", "nb-interacted"} <= circles[
        "p1"
    ]
    assert {"nb-node", "nb-local", "nb-following"} <= circles["p2"] and "nb-follower" not in circles["p2"]
    for name in ("nb-legend", "nb-caption", "nb-label", "nb-edge", "nb-centre"):
        assert name in svg


def test_too_small_a_size_is_refused() -> None:
    with pytest.raises(ValueError):
        render_neighbourhood(_small(), size=100)
