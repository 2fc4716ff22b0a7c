"""The framework-free HTTP helpers: content-coding choice, conditional requests, freshness and
the one error shape, tested directly."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import brotli
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smcfeed._serve import http
from smcfeed._serve.responses import CachedResponse
from smcfeed.service import Output

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _cached(body: bytes = b"<rss/>", expires: datetime | None = None) -> CachedResponse:
    return CachedResponse(Output(body, "application/rss+xml", T0, expires))


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip;q=0.9", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity", "identity"),
        ("GZIP", "gzip"),
        ("gzip;q=nonsense, br;q=0.1", "br"),
        (",,, ;;;", "identity"),
        ("compress, deflate", "identity"),
    ],
)
def test_coding_follows_q_values(header: str, coding: str) -> None:
    assert http.choose_coding(header) == coding


def test_if_none_match_matches_any_coding_of_the_same_body() -> None:
    cached = _cached()
    for tag in (cached.etag_for("identity"), cached.etag_for("gzip"), cached.etag_for("br")):
        assert http.not_modified(cached, tag, None)
        assert http.not_modified(cached, f'"other", W/{tag}', None)
    assert http.not_modified(cached, "*", None)
    assert not http.not_modified(cached, '"other"', None)
    assert not http.not_modified(_cached(b"<rss>changed</rss>"), cached.etag_for("identity"), None)


def test_if_none_match_wins_over_if_modified_since() -> None:
    cached = _cached()
    later = "Wed, 25 Nov 2026 13:00:00 GMT"
    assert http.not_modified(cached, None, later)
    assert not http.not_modified(cached, '"other"', later)


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("Wed, 25 Nov 2026 12:00:00 GMT", True),
        ("Wed, 25 Nov 2026 11:59:59 GMT", False),
        ("not a date", False),
        ("Wed, 25 Nov 2026 12:00:00", False),  # no zone: not HTTP-date, ignored
    ],
)
def test_if_modified_since(since: str, expected: bool) -> None:
    assert http.not_modified(_cached(), None, since) is expected


def test_max_age_runs_to_the_next_grid_line_whatever_the_response() -> None:
    # T0 is on every grid line: a full step (or --max-age, if shorter).
    assert http.max_age(T0, 300, 5) == 300
    assert http.max_age(T0, 120, 5) == 120
    assert http.max_age(T0, 10**9, 15) == 900
    assert http.max_age(T0 + timedelta(seconds=258), 300, 5) == 42
    assert http.max_age(T0 + timedelta(seconds=299, microseconds=500_000), 300, 5) == 0
    assert http.max_age(T0 - timedelta(seconds=1), 10**9, 60) == 1


def test_headers_carry_validators_type_and_coding() -> None:
    cached = _cached()
    headers = dict(http.headers_for(cached, "gzip", None))
    assert headers[b"etag"] == cached.etag_for("gzip").encode()
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"content-type"] == b"application/rss+xml; charset=utf-8"
    assert int(headers[b"content-length"]) == len(cached.body("gzip"))
    assert b"link" not in headers
    plain = dict(http.headers_for(cached, "identity", '<https://hub.example/>; rel="hub"'))
    assert b"content-encoding" not in plain
    assert plain[b"link"] == b'<https://hub.example/>; rel="hub"'


def test_error_body_has_one_shape() -> None:
    assert orjson.loads(http.error_body(404, "no feed /xx")) == {
        "error": {"status": 404, "message": "no feed /xx"}
    }


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([0, 1, 1007, 1008, 1009, 1024, 65536, 65537, 300_000]),
    seed=st.binary(min_size=1, max_size=64),
)
def test_compressed_bodies_decode_to_the_body_with_a_window_that_fits_it(
    size: int, seed: bytes
) -> None:
    """Brotli's window is fitted to the body (a window of 2**w bytes holds 2**w - 16): every
    body still decodes whole, and no larger window than the body needs is announced."""
    body = (seed * (size // len(seed) + 1))[:size]
    cached = _cached(body)
    assert brotli.decompress(cached.body("br")) == body
    assert gzip.decompress(cached.body("gzip")) == body
    # The window size is in the stream's first bits (RFC 7932, section 9.1).
    header = cached.body("br")[0]
    window = 16 if not header & 1 else (17 + (header >> 1 & 7) if header >> 1 & 7 else None)
    if window is None:  # the 3- or 7-bit forms
        window = 8 + (header >> 4 & 7) if header >> 4 & 7 else 17
    assert 2**window - 16 >= min(size, 2**24 - 16) or window == 10
    assert window <= max(10, (max(size, 1) - 1).bit_length() + 1)
