"""The service's settings: one typed value, built in one place from flags and environment.

``smcfeed serve`` builds :class:`Settings` from its flags (whose defaults come from the
``SMCFEED_*`` variables), then hands them to the server's worker processes as those same
variables, since servers import the app by name in each worker; :meth:`Settings.from_env`
reads them back there. Nothing else reads the environment.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Default longest Cache-Control max-age, in seconds.
MAX_AGE = 300
#: Default seconds a client has to send a request's headers.
HEADER_TIMEOUT = 10.0
#: Default bytes of request line and headers accepted.
MAX_HEADER_SIZE = 16384


@dataclass(frozen=True)
class Settings:
    """How to serve: where the content is, and how the service behaves."""

    #: The content folder.
    content: Path = Path("content")
    #: Overrides site.yaml's base_url (e.g. for serving on localhost).
    base_url: str | None = None
    #: Longest Cache-Control max-age, in seconds.
    max_age: int = MAX_AGE
    #: Where parsed files are kept across restarts; None keeps none.
    cache_file: Path | None = None
    #: Reload when files under the content folder change.
    watch: bool = True
    #: Write an access log line per request.
    access_log: bool = True
    #: The journalists' hashed private-feed tokens (outside the content folder).
    tokens_file: Path | None = None
    #: Opens the operator's view (``/operator/status``); None: nobody gets it.
    operator_token: str | None = None
    #: CDN purge endpoints (Varnish, or Fastly's API), told the surrogate keys of each change.
    purge: tuple[str, ...] = ()
    #: Worker processes of the server.
    workers: int = 1
    #: Names one server: its workers share one lock, so one of them announces each change
    #: (None: this process alone).
    instance: str | None = None
    #: Seconds a client has to send a request's headers (then the connection is closed).
    header_timeout: float = HEADER_TIMEOUT
    #: Bytes of request line and headers accepted (more gets a 431).
    max_header_size: int = MAX_HEADER_SIZE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Settings from ``SMCFEED_*`` variables (unset ones take their defaults)."""
        content = Path(environ.get("SMCFEED_CONTENT") or "content")
        return cls(
            content=content,
            base_url=environ.get("SMCFEED_BASE_URL") or None,
            max_age=int(environ.get("SMCFEED_MAX_AGE") or MAX_AGE),
            cache_file=cache_file(content, environ.get("SMCFEED_CACHE")),
            watch=environ.get("SMCFEED_WATCH", "1") == "1",
            access_log=environ.get("SMCFEED_ACCESS_LOG", "1") == "1",
            tokens_file=tokens_file(environ.get("SMCFEED_TOKENS")),
            operator_token=environ.get("SMCFEED_OPERATOR_TOKEN") or None,
            purge=purge_endpoints(environ.get("SMCFEED_PURGE", "")),
            workers=int(environ.get("SMCFEED_WORKERS") or 1),
            instance=environ.get("SMCFEED_INSTANCE") or None,
            header_timeout=float(environ.get("SMCFEED_HEADER_TIMEOUT") or HEADER_TIMEOUT),
            max_header_size=int(environ.get("SMCFEED_MAX_HEADER_SIZE") or MAX_HEADER_SIZE),
        )

    def to_env(self) -> dict[str, str]:
        """The variables :meth:`from_env` reads back into these settings."""
        env = {
            # As given: a link a deploy re-points is followed by each worker (see watch.py).
            "SMCFEED_CONTENT": os.path.abspath(self.content),
            "SMCFEED_MAX_AGE": str(self.max_age),
            "SMCFEED_CACHE": "off" if self.cache_file is None else str(self.cache_file),
            "SMCFEED_WATCH": "1" if self.watch else "0",
            "SMCFEED_ACCESS_LOG": "1" if self.access_log else "0",
            "SMCFEED_PURGE": " ".join(self.purge),
            "SMCFEED_WORKERS": str(self.workers),
            "SMCFEED_HEADER_TIMEOUT": str(self.header_timeout),
            "SMCFEED_MAX_HEADER_SIZE": str(self.max_header_size),
        }
        if self.instance:
            env["SMCFEED_INSTANCE"] = self.instance
        if self.base_url:
            env["SMCFEED_BASE_URL"] = self.base_url
        if self.tokens_file is not None:
            env["SMCFEED_TOKENS"] = str(self.tokens_file.resolve())
        if self.operator_token:
            env["SMCFEED_OPERATOR_TOKEN"] = self.operator_token
        return env


def tokens_file(setting: str | None) -> Path:
    """The journalists' tokens file: the given path, or ``~/.config/smcfeed/tokens.json``
    (never inside the content folder, which editors publish)."""
    if setting:
        return Path(setting)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "smcfeed" / "tokens.json"


def purge_endpoints(text: str) -> tuple[str, ...]:
    """Purge endpoints as ``SMCFEED_PURGE`` lists them: URLs separated by spaces or commas."""
    return tuple(part for part in text.replace(",", " ").split() if part)


def cache_file(content: Path, setting: str | None) -> Path | None:
    """The parse cache file for ``content``: ``off`` for none, a path, or (unset) the user's
    cache folder, one file per content folder."""
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "smcfeed"
    # The folder as given: releases swapped in behind a link share one cache (an entry is
    # only used for a file whose bytes it matches).
    key = hashlib.blake2b(os.path.abspath(content).encode(), digest_size=8).hexdigest()
    return base / f"parsed-{key}.msgpack"
