"""Jinja2 for our HTML: autoescaped, strict about undefined names, templates in the package.

Plain text is escaped exactly once, by the engine; only HTML we sanitised ourselves is passed
in as :class:`~markupsafe.Markup`.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

ENV = Environment(
    loader=PackageLoader("smcfeed", "_render/templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, **context: object) -> bytes:
    """The template ``template`` filled in with ``context``, as UTF-8."""
    return ENV.get_template(template).render(**context).encode()


@cache
def asset(name: str) -> str:
    """A file kept beside the templates (CSS or script inlined into pages), stripped."""
    return files("smcfeed").joinpath(f"_render/templates/{name}").read_text("utf-8").strip()


def inline(name: str) -> Markup:
    """An asset to inline into a ``<style>`` or ``<script>`` element, byte for byte."""
    return Markup(asset(name))


def csp_hash(name: str) -> str:
    """The Content-Security-Policy source that allows exactly the inlined asset ``name``."""
    digest = hashlib.sha256(asset(name).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
