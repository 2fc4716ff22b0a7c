"""The one exception tree of smcfeed: every error we raise derives from :class:`SmcfeedError`."""

from __future__ import annotations

from dataclasses import dataclass


class SmcfeedError(Exception):
    """Root of every error smcfeed raises on purpose."""


#: The longest message a ContentError keeps.
MAX_MESSAGE = 300


@dataclass(frozen=True)
class ContentError:
    """One problem in the content folder, worded for an editor."""

    #: Path of the file, relative to the content folder (or the folder itself).
    path: str
    #: 1-based line number in that file, when the parser knows it.
    line: int | None
    #: What is wrong and how to fix it: one line of at most MAX_MESSAGE characters, so a
    #: huge value (an expanded YAML alias, a 1 MB line) cannot flood output, logs or health.
    message: str

    def __post_init__(self) -> None:
        message = " ".join(self.message.split())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def with_prefix(self, prefix: str) -> str:
        """``path:line: <prefix>message``, e.g. for a warning."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {prefix}{self.message}"


class ContentInvalid(SmcfeedError):
    """The content folder has errors; ``errors`` lists every one of them."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} content error(s)")


class NotFound(SmcfeedError):
    """No such feed, article or page (answers as HTTP 404)."""


class BadRequest(SmcfeedError):
    """The request is malformed, e.g. a ``page`` that is not a positive integer (HTTP 400)."""


class Unsupported(SmcfeedError):
    """A format the route does not offer, where its protocol asks for HTTP 501 (oEmbed)."""


class Redirect(SmcfeedError):
    """The output lives at another, canonical path (HTTP 301), e.g. ``?page=2``."""

    def __init__(self, location: str) -> None:
        #: The canonical path (and query) to go to.
        self.location = location
        super().__init__(location)
