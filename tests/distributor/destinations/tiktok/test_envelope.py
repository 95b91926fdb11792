"""TikTok's envelope decides retries: every (HTTP status, body) TikTok can answer must map to
data or to exactly one error class of distributor.errors, with the code the executor reads.

Codes and message texts come from /work/shared/research/tiktok_api.md (§1.2, §1.7); where
the research quotes no text, the message is a plausible stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from distributor.destinations.tiktok.envelope import MESSAGE_CHARS, parse, unwrap
from distributor.errors import AuthError, BadRequest, DestinationError, Throttled, TransientError

ENDPOINT = "segment/mapping/"
REQUEST_ID = "202308032127455B021E952"  # Segment's fixture (research §1.2)


@dataclass(frozen=True)
class Data:
    """`unwrap` returns this value."""

    value: Any


@dataclass(frozen=True)
class Raises:
    """`unwrap` raises exactly this class (not a subclass) with this `.code`."""

    error: type[DestinationError]
    code: int | None


Outcome = Data | Raises


def envelope(code: Any, message: str = "", **extra: Any) -> dict[str, Any]:
    """A TikTok answer as the research shows it: code, message, request_id (and data)."""
    return {"code": code, "message": message, "request_id": REQUEST_ID, **extra}


CASES = [
    # code 0: success, `data` returned; an absent or empty `data` reads as {}.
    pytest.param(
        200,
        envelope(0, "OK", data={"audience_id": "888888888"}),
        Data({"audience_id": "888888888"}),
        id="ok-with-data",
    ),
    pytest.param(
        200,
        {"code": 0, "message": "OK", "request_id": "test-request-id"},
        Data({}),
        id="ok-without-data",
    ),
    pytest.param(200, envelope(0, "OK", data={}), Data({}), id="ok-empty-data"),
    pytest.param(200, envelope(0, "OK", data=None), Data({}), id="ok-null-data"),
    # Throttling and TikTok's internal errors: retried.
    pytest.param(
        200,
        envelope(40100, "Too many requests. Please retry in some time."),
        Raises(Throttled, 40100),
        id="40100-rate-limit",
    ),
    pytest.param(200, envelope(50000, "Internal error"), Raises(TransientError, 50000), id="50000"),
    pytest.param(
        200,
        envelope(50002, "Internal service error, please try again later"),
        Raises(TransientError, 50002),
        id="50002",
    ),
    pytest.param(200, envelope(51004, "System busy"), Raises(TransientError, 51004), id="5xxxx"),
    pytest.param(200, envelope(59999, "System error"), Raises(TransientError, 59999), id="59999"),
    # HTTP 5xx and 429: retried whatever the body says.
    pytest.param(500, None, Raises(TransientError, 500), id="http-500-no-body"),
    pytest.param(
        500, envelope(50000, "Internal error"), Raises(TransientError, 500), id="http-500-envelope"
    ),
    pytest.param(503, None, Raises(TransientError, 503), id="http-503-no-body"),
    pytest.param(
        503,
        envelope(40002, "Parameter error: invalid audience ID"),
        Raises(TransientError, 503),
        id="http-503-envelope",
    ),
    pytest.param(429, None, Raises(Throttled, 429), id="http-429-no-body"),
    pytest.param(
        429,
        envelope(40100, "Too many requests. Please retry in some time."),
        Raises(Throttled, 429),
        id="http-429-envelope",
    ),
    # The token or the role: stop the account.
    pytest.param(
        200,
        envelope(40001, "No permission to operate advertiser 7646349875793182738"),
        Raises(AuthError, 40001),
        id="40001-no-permission",
    ),
    pytest.param(
        200,
        envelope(40101, "Invalid app_id and secret combination"),
        Raises(AuthError, 40101),
        id="40101-app-credentials",
    ),
    pytest.param(
        200, envelope(40104, "Access token is null"), Raises(AuthError, 40104), id="40104-no-token"
    ),
    pytest.param(
        200,
        envelope(40105, "The access token is invalid or has been revoked.", data={}),
        Raises(AuthError, 40105),
        id="40105-revoked-token",
    ),
    pytest.param(
        400,
        envelope(40105, "The access token is invalid or has been revoked.", data={}),
        Raises(AuthError, 40105),
        id="40105-on-http-400",
    ),
    pytest.param(
        200,
        envelope(40110, "Auth code is invalid or expired"),
        Raises(AuthError, 40110),
        id="40110-auth-code",
    ),
    # The request's content: not retried (Segment's tests send it on 200 and on 400).
    pytest.param(
        200,
        envelope(40002, "Parameter error: invalid audience ID"),
        Raises(BadRequest, 40002),
        id="40002-parameter-error",
    ),
    pytest.param(
        400,
        envelope(40002, "Parameter error: invalid audience ID"),
        Raises(BadRequest, 40002),
        id="40002-on-http-400",
    ),
    # Any other code: a plain DestinationError carrying it.
    pytest.param(200, envelope(40900, "Conflict"), Raises(DestinationError, 40900), id="40900"),
    pytest.param(
        200,
        envelope(40007, "The object or URL you're referencing doesn't exist"),
        Raises(DestinationError, 40007),
        id="40007-not-found",
    ),
    pytest.param(
        200,
        envelope(20001, "Partial success"),
        Raises(DestinationError, 20001),
        id="20001-is-not-success",
    ),
    # A 2xx whose body cannot be read: retried, the code is the HTTP status.
    pytest.param(200, None, Raises(TransientError, 200), id="2xx-unreadable"),
    pytest.param(204, None, Raises(TransientError, 204), id="2xx-empty"),
    pytest.param(200, [], Raises(TransientError, 200), id="2xx-list-body"),
    pytest.param(200, "OK", Raises(TransientError, 200), id="2xx-string-body"),
    pytest.param(200, 0, Raises(TransientError, 200), id="2xx-number-body"),
    pytest.param(
        200, {"message": "OK", "data": {}}, Raises(TransientError, 200), id="2xx-missing-code"
    ),
    # A 4xx without TikTok's envelope: the request was refused, not retried.
    pytest.param(400, None, Raises(BadRequest, 400), id="4xx-no-body"),
    pytest.param(404, "Not Found", Raises(BadRequest, 404), id="4xx-string-body"),
    pytest.param(403, {"error": "forbidden"}, Raises(BadRequest, 403), id="4xx-foreign-json"),
    # A code that is not an integer is unreadable, like a missing one: retried, and the
    # error's code is the HTTP status (there is no TikTok code to report).
    pytest.param(200, envelope("abc"), Raises(TransientError, 200), id="code-string"),
    pytest.param(200, envelope(None), Raises(TransientError, 200), id="code-null"),
    pytest.param(200, envelope([0]), Raises(TransientError, 200), id="code-list"),
    pytest.param(200, envelope({}), Raises(TransientError, 200), id="code-object"),
    pytest.param(200, envelope(0.5), Raises(TransientError, 200), id="code-float"),
    pytest.param(200, envelope(False), Raises(TransientError, 200), id="code-bool"),
    # ... and on a 4xx, an unreadable code is a 4xx without a (usable) envelope.
    pytest.param(400, envelope("abc"), Raises(BadRequest, 400), id="4xx-code-string"),
]


@pytest.mark.parametrize(("status", "body", "outcome"), CASES)
def test_unwrap(status: int, body: Any, outcome: Outcome) -> None:
    """The executor decides retries from the class alone, so the class must be exact."""
    if isinstance(outcome, Data):
        assert unwrap(ENDPOINT, status, body) == outcome.value
        return
    with pytest.raises(DestinationError) as caught:
        unwrap(ENDPOINT, status, body)
    assert type(caught.value) is outcome.error
    assert caught.value.code == outcome.code
    assert str(caught.value).startswith(f"{ENDPOINT}: ")


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (40100, Throttled),
        (50000, TransientError),
        (40105, AuthError),
        (40002, BadRequest),
        (40900, DestinationError),
    ],
)
def test_message_names_endpoint_code_and_tiktok_message(
    code: int, error: type[DestinationError]
) -> None:
    """An operator reads the endpoint, TikTok's code and its words, nothing else."""
    message = "Parameter error: invalid audience ID"
    with pytest.raises(error) as caught:
        unwrap("segment/audience/", 200, envelope(code, message))
    assert str(caught.value) == f"segment/audience/: TikTok code {code}: {message}"


@pytest.mark.parametrize("status", [500, 503, 429, 400, 200])
def test_message_names_endpoint_and_http_status(status: int) -> None:
    """Without an envelope the HTTP status is the only code there is."""
    with pytest.raises(DestinationError) as caught:
        unwrap("oauth2/access_token/", status, None)
    assert str(caught.value).startswith(f"oauth2/access_token/: HTTP {status}")


def test_long_message_is_cut_to_message_chars() -> None:
    """TikTok's message can be long or echo request content; only its head is kept."""
    head = "Batch.0.properties.contents.0.content_id: Not a valid string. " * 10
    assert len(head) > MESSAGE_CHARS
    message = head + "TAIL-THAT-MUST-NOT-APPEAR"
    with pytest.raises(BadRequest) as caught:
        unwrap(ENDPOINT, 200, envelope(40002, message))
    text = str(caught.value)
    assert text == f"{ENDPOINT}: TikTok code 40002: {message[:MESSAGE_CHARS]}"
    assert "TAIL-THAT-MUST-NOT-APPEAR" not in text


def test_message_of_exactly_message_chars_is_kept_whole() -> None:
    """The cut is at MESSAGE_CHARS, not before."""
    message = "x" * MESSAGE_CHARS
    with pytest.raises(DestinationError) as caught:
        unwrap(ENDPOINT, 200, envelope(40900, message))
    assert str(caught.value).endswith(": " + message)


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"<html>502 Bad Gateway</html>", b'{"code":0', b"\xff\xfe", b"   "]
)
def test_parse_returns_none_for_empty_or_non_json(raw: bytes) -> None:
    """An unreadable body becomes None, which unwrap classifies by HTTP status."""
    assert parse(raw) is None


def test_parse_then_unwrap_a_real_answer() -> None:
    """The bytes TikTok sends for a created audience (research §1.4.1) yield its data."""
    raw = orjson.dumps(envelope(0, "OK", data={"audience_id": "888888888"}))
    assert parse(raw) == envelope(0, "OK", data={"audience_id": "888888888"})
    assert unwrap("segment/audience/", 200, parse(raw)) == {"audience_id": "888888888"}
