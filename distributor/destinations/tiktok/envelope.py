"""TikTok's answer envelope, `{code, message, request_id, data}`, into data or errors.

TikTok reports errors as HTTP 200 with a non-zero `code`, so the body is always read:
- 0: success, `data` is returned;
- 40100 (too many requests) and HTTP 429: Throttled (retried after TikTok's 1 s window);
- 50000/50002 and any 5xx code, HTTP 5xx, and a 2xx answer without a readable envelope
  (no integer `code`): TransientError (retried with backoff);
- 40001 (no permission), 40101 (bad app credentials), 40104 (no token), 40105 (invalid or
  revoked token), 40110 (bad auth code): AuthError (stop the account);
- 40002 (parameter error: the request's content): BadRequest (not retried; a batch is
  split to isolate its bad rows);
- an HTTP 4xx without a readable envelope: BadRequest; any other code: DestinationError.
Messages carry the endpoint, the code and TikTok's message (trimmed), never the request.
"""

from __future__ import annotations

from typing import Any

import orjson

from distributor.errors import AuthError, BadRequest, DestinationError, Throttled, TransientError

AUTH_CODES = frozenset({40001, 40101, 40104, 40105, 40110})
THROTTLED = 40100
TRANSIENT_CODES = frozenset({50000, 50002})
BAD_REQUEST = 40002
MESSAGE_CHARS = 300


def parse(raw: bytes) -> Any:
    """The JSON body, or None when it is empty or not JSON."""
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def unwrap(endpoint: str, status: int, body: Any) -> Any:
    """`data` of a successful envelope (an empty dict when absent), or the matching error."""
    if status == 429:
        raise Throttled(f"{endpoint}: HTTP 429", code=status)
    if status >= 500:
        raise TransientError(f"{endpoint}: HTTP {status}", code=status)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        if status >= 400:
            raise BadRequest(f"{endpoint}: HTTP {status} without a TikTok envelope", code=status)
        raise TransientError(f"{endpoint}: HTTP {status} with an unreadable body", code=status)
    if code == 0:
        return body.get("data") or {}
    text = f"{endpoint}: TikTok code {code}: {str(body.get('message', ''))[:MESSAGE_CHARS]}"
    if code == THROTTLED:
        raise Throttled(text, code=code)
    if code in TRANSIENT_CODES or 50000 <= code < 60000:
        raise TransientError(text, code=code)
    if code in AUTH_CODES:
        raise AuthError(text, code=code)
    if code == BAD_REQUEST:
        raise BadRequest(text, code=code)
    raise DestinationError(text, code=code)
