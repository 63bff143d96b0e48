"""Moderation's API bodies and the error other contexts raise on a banned link."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from liveloop.kit.errors import LiveloopError, problem_body
from liveloop.moderation.errors import ContentBlocked
from liveloop.moderation.linkban import check
from liveloop.moderation.schemas import ModerationCheckIn, ModerationCheckOut


def test_check_in_caps_the_text() -> None:
    assert ModerationCheckIn(text="x" * 20_000).text == "x" * 20_000
    with pytest.raises(ValidationError, match="at most 20000 characters"):
        ModerationCheckIn(text="x" * 20_001)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ModerationCheckIn.model_validate({"text": "hi", "field": "bio"})


def test_check_out_is_built_from_a_decision() -> None:
    out = ModerationCheckOut.model_validate(check("see amzn.to/x or ebay.de"))
    assert out.model_dump() == {
        "allowed": False,
        "findings": [
            {"match": "amzn.to/x", "domain": "amzn.to", "rule": "marketplace_shortlink"},
            {"match": "ebay.de", "domain": "ebay.de", "rule": "marketplace"},
        ],
    }
    assert ModerationCheckOut.model_validate(check("hello")).model_dump() == {
        "allowed": True,
        "findings": [],
    }


def test_content_blocked_names_the_field_and_the_domains() -> None:
    error = ContentBlocked("description", check("amzn.to/x, amzn.to/y and bit.ly/z"))
    assert isinstance(error, LiveloopError)
    assert (error.status, error.code) == (422, "external_link_blocked")
    assert error.detail == (
        "Links to outside shops are not allowed on liveloop: remove amzn.to, bit.ly."
    )
    assert error.errors == [
        {
            "field": "description",
            "message": "Contains a link to amzn.to (marketplace shortlink): amzn.to/x",
            "code": "external_link_blocked",
        },
        {
            "field": "description",
            "message": "Contains a link to amzn.to (marketplace shortlink): amzn.to/y",
            "code": "external_link_blocked",
        },
        {
            "field": "description",
            "message": "Contains a link to bit.ly (shortener): bit.ly/z",
            "code": "external_link_blocked",
        },
    ]
    body = problem_body(
        error.status, error.code, error.detail, errors=error.errors, extra=error.extra
    )
    assert body["type"] == "https://liveloop.dev/problems/external_link_blocked"
    assert body["domains"] == ["amzn.to", "bit.ly"]


def test_content_blocked_needs_a_finding() -> None:
    with pytest.raises(ValueError, match="nothing to block"):
        ContentBlocked("bio", check("hello"))
