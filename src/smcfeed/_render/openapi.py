"""``/openapi.json``: the OpenAPI 3.1 description of the JSON API, ``_smc`` and oEmbed.

The document is kept as YAML in the package (``static/openapi.yaml``), where it reads like the
reference it is; it is served as JSON with this service's base URL as its server.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import orjson
import yaml

from ..models import Site


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document as shipped (without ``servers``)."""
    text = files("smcfeed").joinpath("static/openapi.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def render(site: Site) -> bytes:
    """The document for the service at ``site.root``."""
    doc = {**document(), "servers": [{"url": site.root}]}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)
