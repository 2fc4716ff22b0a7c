"""Journalists' private-feed tokens: kept hashed in a file outside the content folder.

``smcfeed tokens add NAME`` makes a random token, prints it once and stores only its SHA-256
with the name and creation time. The server reads the file again when it changes (looked at
no more than once a second), so additions and revocations need no restart. A token is
checked against every stored hash with :func:`hmac.compare_digest`, so a wrong token costs the
same time however close it is to a right one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..exceptions import SmcfeedError

#: Bytes of randomness in a token (256 bits; the design asks for at least 128).
TOKEN_BYTES = 32
#: Seconds the server trusts what it last read before looking at the file again.
RECHECK = 1.0
_NAME_MAX = 200


class TokenFileError(SmcfeedError):
    """The tokens file cannot be read or written, or a command cannot be carried out."""


@dataclass(frozen=True)
class Registration:
    """One registered journalist."""

    #: Who the token was given to, as the centre's staff typed it.
    name: str
    #: SHA-256 of the token, hex: the token itself is never stored.
    hash: str
    #: When the token was made.
    created: str

    @property
    def short_id(self) -> str:
        """What logs show instead of the token: the start of its hash."""
        return self.hash[:10]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def short_id(token: str) -> str:
    """What a log prints for ``token`` (registered or not): the start of its hash."""
    return hash_token(token)[:10]


def ensure_outside(tokens: Path, content: Path) -> None:
    """Refuse a tokens file inside the content folder: editors publish that folder."""
    folder = content.resolve()
    where = tokens.resolve()
    if where == folder or folder in where.parents:
        raise TokenFileError(
            f"the tokens file {tokens} is inside the content folder {content}: "
            "keep it outside (--tokens FILE or SMCFEED_TOKENS)"
        )


def read(path: Path) -> list[Registration]:
    """The registrations in ``path`` (none when it does not exist yet)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise TokenFileError(f"{path}: cannot read the tokens file ({e.strerror})") from e
    try:
        data = json.loads(raw)
        found = [
            Registration(str(t["name"]), str(t["hash"]), str(t["created"])) for t in data["tokens"]
        ]
        for registration in found:
            bytes.fromhex(registration.hash)
        return found
    except (ValueError, TypeError, KeyError) as e:
        raise TokenFileError(f"{path}: not a tokens file written by smcfeed") from e


def _write(path: Path, registrations: list[Registration]) -> None:
    """Replace ``path`` at once (a reader sees the old file or the new), readable by us only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"tokens": [r.__dict__ for r in registrations]}
    fd, temp = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as e:
        Path(temp).unlink(missing_ok=True)
        raise TokenFileError(f"{path}: cannot write the tokens file ({e.strerror})") from e


def add(path: Path, name: str, now: datetime) -> str:
    """Register ``name``; return the new token (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > _NAME_MAX or not name.isprintable():
        raise TokenFileError(f"a name is 1 to {_NAME_MAX} printable characters")
    registrations = read(path)
    if any(r.name == name for r in registrations):
        raise TokenFileError(f"'{name}' already has a token: revoke it first to issue a new one")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    registration = Registration(name, hash_token(token), now.isoformat(timespec="seconds"))
    _write(path, [*registrations, registration])
    return token


def revoke(path: Path, name: str) -> Registration:
    """Remove ``name``'s token; its private feeds answer 404 from then on."""
    registrations = read(path)
    found = [r for r in registrations if r.name == name]
    if not found:
        raise TokenFileError(f"no token is registered for '{name}'")
    _write(path, [r for r in registrations if r.name != name])
    return found[0]


class TokenRegistry:
    """The server's view of the tokens file, read again within a second of a change."""

    def __init__(
        self,
        path: Path | None,
        recheck: float = RECHECK,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.recheck = recheck
        self.monotonic = monotonic
        self._hashes: tuple[bytes, ...] = ()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = -recheck
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        now = self.monotonic()
        if now - self._checked < self.recheck:
            return
        with self._lock:
            if now - self._checked < self.recheck:
                return
            self._checked = now
            assert self.path is not None
            try:
                info = self.path.stat()
                stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                stamp = None
            if stamp == self._stamp:
                return
            try:
                registrations = read(self.path) if stamp is not None else []
            except TokenFileError:
                # A broken file admits nobody rather than keeping tokens that may be revoked.
                registrations = []
            self._hashes = tuple(bytes.fromhex(r.hash) for r in registrations)
            self._stamp = stamp

    def admits(self, token: str) -> bool:
        """Whether ``token`` is registered: compared with every stored hash in constant
        time, with no early exit."""
        if self.path is None:
            return False
        self._refresh()
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found = False
        for stored in self._hashes:
            found |= hmac.compare_digest(stored, digest)
        return found
