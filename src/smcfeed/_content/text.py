"""Rules for the text in content files: what no output can carry, what looks like markup,
and how much of a value an error message may quote."""

from __future__ import annotations

import re
import reprlib
import unicodedata
from collections.abc import Iterator
from typing import Any

#: The most of a value an error message quotes.
MAX_QUOTE = 60

#: Characters no feed may hold: the C0 and C1 controls (but tab, line feed and carriage
#: return), lone surrogates, and Unicode's noncharacters. XML 1.0 cannot carry most of them
#: (lxml refuses to write them), and the rest are never meant to be interchanged.
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)

#: Bytes that begin every unsafe character in UTF-8 (and some safe ones): the single-byte
#: controls, and the lead bytes of U+F000–U+FFFF and of the astral planes. With the C1
#: controls (\xc2\x80–\xc2\x9f) they let a file without any be passed in microseconds;
#: UNSAFE, which takes a millisecond per article, looks only at files that have some.
_SUSPECT_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xEF, 0xF5)])
_C1 = re.compile(rb"\xc2[\x80-\x9f]")

#: A tag or an HTML comment, as pasted from a web page: ``<b>``, ``</p>``, ``<a href=…>``.
_MARKUP = re.compile(
    r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?|!--[^<>]*--)>|&(?:[a-z]+|#\d+|#x[0-9a-f]+);",
    re.IGNORECASE,
)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 4
_SHORT.maxstring = _SHORT.maxother = MAX_QUOTE


def excerpt(value: object, limit: int = MAX_QUOTE) -> str:
    """``value`` as text of at most ``limit`` characters (an ellipsis marks a cut); a huge
    structure (an expanded YAML alias) is never written out in full, even in memory."""
    text = value if isinstance(value, str) else _SHORT.repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def describe(char: str) -> str:
    """``U+0007 (a control character)`` and the like."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "a control character"
    else:
        kind = "a noncharacter"
    name = unicodedata.name(char, "")
    return f"U+{code:04X}{f' {name}' if name else ''} ({kind})"


def unsafe_in(text: str, data: bytes | None = None) -> tuple[int, str] | None:
    """The 1-based line and description of the first character no output can carry.

    ``data``: the UTF-8 bytes ``text`` was decoded from, for a fast first look.
    """
    if (
        data is not None
        and len(data.translate(None, _SUSPECT_BYTES)) == len(data)
        and _C1.search(data) is None
    ):
        return None
    found = UNSAFE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    return line, f"holds {describe(found.group())}, which no feed can carry; delete it"


Where = tuple[str | int, ...]


def strings(data: Any) -> Iterator[tuple[Where, str]]:
    """Every text value and key in parsed YAML, with where it stands. A mapping or list that
    YAML aliases share is visited once (a recursive alias would never end, and nested ones
    would take exponential time)."""
    seen: set[int] = set()
    stack: list[tuple[Where, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, dict):
                for key, item in reversed(value.items()):
                    sub = (*path, str(key))
                    stack.append((sub, item))
                    if isinstance(key, str):
                        stack.append((sub, key))
            else:
                stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))


def first_unsafe_value(data: Any, source: str) -> tuple[Where, str] | None:
    """Where a value holds a character no output can carry, and what it is. Raw ones were
    found in the file's text (``source``): only a YAML escape such as ``"\\x07"`` can make one,
    so a source without a backslash needs no look."""
    if "\\" not in source:
        return None
    for where, text in strings(data):
        found = UNSAFE.search(text)
        if found is not None:
            return where, f"holds {describe(found.group())}, which no feed can carry; delete it"
    return None


def looks_like_markup(text: str) -> bool:
    """Whether plain text looks like pasted HTML (a tag, a comment or an entity)."""
    return _MARKUP.search(text) is not None
