"""smcfeed: RSS, Atom and JSON Feed syndication of a science media centre's expert reactions."""

from __future__ import annotations

from ._content.loader import LoadResult, load_content
from .ages import Age, age_of
from .app import create_app
from .catalogue import Catalogue, FeedKey
from .clock import Clock, FixedClock, system_clock
from .exceptions import BadRequest, ContentError, ContentInvalid, NotFound, SmcfeedError
from .models import Article, Expert, Reaction, Site, Study
from .service import Output, Smcfeed

__all__ = [
    "Age",
    "Article",
    "BadRequest",
    "Catalogue",
    "Clock",
    "ContentError",
    "ContentInvalid",
    "Expert",
    "FeedKey",
    "FixedClock",
    "LoadResult",
    "NotFound",
    "Output",
    "Reaction",
    "Site",
    "Smcfeed",
    "SmcfeedError",
    "Study",
    "age_of",
    "create_app",
    "load_content",
    "system_clock",
]
__version__ = "0.1.0"
