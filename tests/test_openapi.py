"""/openapi.json: a valid OpenAPI 3.1 document whose schemas and examples match what the
service really answers — checked by openapi-spec-validator, jsonschema and schemathesis."""

from __future__ import annotations

import warnings
from typing import Any

import jsonschema
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from smcfeed import FixedClock, create_app, load_content

from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

APP = create_app(SAMPLE, clock=FixedClock(NOW))
CLIENT = TestClient(APP)


def _document() -> dict[str, Any]:
    response = CLIENT.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = orjson.loads(response.content)
    return body


DOC = _document()


def _validator(name: str) -> jsonschema.protocols.Validator:
    """A JSON Schema validator for one of the document's component schemas."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate(DOC)
    assert DOC["servers"] == [{"url": "https://feeds.smc-demo.org"}]


def test_it_describes_the_article_api_the_smc_extension_and_oembed() -> None:
    paths = DOC["paths"]
    for path in ("/{lang}/articles/{slug}.json", "/{lang}/feed.json", "/oembed"):
        assert "get" in paths[path]
    assert "_smc" in DOC["components"]["schemas"]["Item"]["properties"]
    assert {"reactions", "license", "age"} <= set(DOC["components"]["schemas"]["Smc"]["required"])


@pytest.mark.parametrize(
    ("example", "schema"), [("Article", "Article"), ("Feed", "Feed"), ("OEmbed", "OEmbed")]
)
def test_examples_follow_their_schemas(example: str, schema: str) -> None:
    _validator(schema).validate(DOC["components"]["examples"][example]["value"])


def test_a_broken_example_would_be_caught() -> None:
    article = dict(DOC["components"]["examples"]["Article"]["value"])
    del article["_smc"]
    with pytest.raises(jsonschema.ValidationError):
        _validator("Article").validate(article)


def test_every_real_article_and_feed_follows_the_schemas() -> None:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    article_schema, feed_schema = _validator("Article"), _validator("Feed")
    checked = 0
    for article in catalogue.articles:
        response = CLIENT.get(f"/{article.lang}/articles/{article.slug}.json")
        if article.published > NOW:
            assert response.status_code == 404
            continue
        article_schema.validate(response.json())
        checked += 1
    assert checked > 20
    for path in ("/es/feed.json", "/en/feed.json", "/es/topics/climate/feed.json"):
        feed_schema.validate(CLIENT.get(path).json())
    oembed = CLIENT.get("/oembed?url=https://feeds.smc-demo.org/es/rss.xml").json()
    _validator("OEmbed").validate(oembed)
    _validator("Error").validate(CLIENT.get("/es/articles/nothing.json").json())


# --- schemathesis: generated requests, every response checked against the document -------

SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE])


@SCHEMA.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_requests_get_no_5xx_and_documented_responses(case: Any) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
