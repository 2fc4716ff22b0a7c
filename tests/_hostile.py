"""Hostile text and how to look for live HTML, shared by the escaping tests.

Text comes as hypothesis strategies; content files are written with the value as a YAML
double-quoted scalar (escapes for what a file cannot hold literally) or, sometimes, raw.
HTML is judged the way a browser reads it: parsed by html5lib, never by a regex.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import html5lib
from hypothesis import strategies as st
from lxml import etree

#: Pieces an attacker (or a careless paste) puts in a text field.
MARKUP = [
    "<script>alert(1)</script>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<b onclick=alert(1)>bold</b>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    "<style>*{display:none}</style>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=data:text/html,x>",
    '<a href="javascript:alert(1)">link</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>',
    '<a href=" vbscript:msgbox(1)">vb</a>',
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "]]>",
    "<![CDATA[x]]>",
    "<!-- comment -->",
    "<?php echo 1; ?>",
    "&amp; &lt;script&gt; &#60;script&#62; &#x3C;",
    "&nbsp;&copy;",
    "<5 years & >3 months",
    "\"quoted\" 'single'",
    "`backtick` ${x} {{x}} %3Cscript%3E",
    "\\ backslash \\n",
    "</p></blockquote></description></item>",
    "<p>para</p>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]
#: Characters that are hostile in another way.
CONTROL = [chr(c) for c in [*range(0, 32), 0x7F, *range(0x80, 0xA0)]]
NONCHARACTERS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
BIDI = ["\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2069", "\u200f"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
ASTRAL = ["😀", "🏳️‍🌈", "𝕏", "👩🏽‍🔬", "🇪🇸", "\U0001f9ec"]
ORDINARY = ["Clima", "¿Qué?", "ñandú", "Ærø", "日本語", "العربية", "a", " ", "\t", "\n"]

_piece = st.one_of(
    st.sampled_from(MARKUP),
    st.sampled_from(CONTROL),
    st.sampled_from(NONCHARACTERS),
    st.sampled_from(SURROGATES),
    st.sampled_from(BIDI),
    st.sampled_from(ZERO_WIDTH),
    st.sampled_from(ASTRAL),
    st.sampled_from(ORDINARY),
    st.text(max_size=12),
)
#: Hostile text of a few pieces.
hostile_text = st.lists(_piece, min_size=1, max_size=8).map("".join)


def huge(text: str, size: int = 1_000_000) -> str:
    """``text`` repeated to about ``size`` bytes once written as a YAML scalar (a file may
    hold 2 MB, and escapes take several bytes per character)."""
    text = text if text.strip() else text + "x"
    written = len(yaml_quoted(text).encode("utf-8", "surrogatepass")) - 2
    return text * max(1, size // max(1, written))


def yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar on one line: printable characters as they are,
    everything else as an escape (so control characters, noncharacters and lone surrogates
    reach the YAML parser as the value, not as bytes a file cannot hold)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and ch != "\u0085":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def yaml_raw(text: str) -> str:
    """``text`` double-quoted with every character literal: control characters, line breaks
    and surrogates stay as they are, so the file holds what YAML or UTF-8 forbid (and must be
    refused with a line number), and line breaks fold as YAML says."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_file(text: str) -> bytes:
    """A file's bytes; lone surrogates become the (invalid) bytes they would be."""
    return text.encode("utf-8", "surrogatepass")


def expected_text(text: str) -> str:
    """What must survive the round trip: the value as the loader keeps it (stripped), with
    line ends as XML and HTML parsers normalise them."""
    return text.strip().replace("\r\n", "\n").replace("\r", "\n")


#: Elements that make HTML live (or hide it) and must never come from content.
FORBIDDEN_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "frame", "frameset",
     "base", "meta", "link", "applet", "noscript", "template", "input", "button", "textarea"}
)  # fmt: skip
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "poster", "background", "cite", "srcset",
     "xlink:href", "codebase", "dynsrc", "lowsrc"}
)  # fmt: skip
_BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


def parse_html(fragment: str) -> etree._Element:
    """``fragment`` parsed as a browser parses the inside of a ``<div>``."""
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("lxml"), namespaceHTMLElements=False)
    container = etree.Element("div")
    for node in parser.parseFragment(fragment, container="div"):
        if isinstance(node, str):
            container.text = (container.text or "") + node
        else:
            container.append(node)
    return container


def parse_document(document: str) -> etree._Element:
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("lxml"), namespaceHTMLElements=False)
    return parser.parse(document).getroot()


def _scheme(url: str) -> str:
    # Browsers drop ASCII whitespace and control characters when reading a URL's scheme.
    return "".join(ch for ch in url if ord(ch) > 0x20).lower()


def live_html(root: etree._Element, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Everything in a parsed tree that would run, load or restyle: tag names, ``on*``
    attributes, and script-capable URLs. ``allowed`` names tags the page itself may have."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.rpartition("}")[2].lower()
        if tag in FORBIDDEN_TAGS and tag not in allowed:
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            name = name.rpartition("}")[2].lower()
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if (name in _URL_ATTRIBUTES or name.endswith("href")) and _scheme(value).startswith(
                _BAD_SCHEMES
            ):
                found.append(f"<{tag} {name}={value[:40]!r}>")
    return found


def html_text(fragment: str) -> str:
    """The text a reader sees in ``fragment`` (all text nodes, in order)."""
    return "".join(parse_html(fragment).itertext())


def json_strings(value: Any) -> Iterator[tuple[str, str]]:
    """(key, string) of every string in a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str):
                yield key, inner
            else:
                yield from json_strings(inner)
    elif isinstance(value, list):
        for inner in value:
            if isinstance(inner, str):
                yield "", inner
            else:
                yield from json_strings(inner)
