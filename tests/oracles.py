"""Scalar pure-Python reference implementations: the oracle for property tests.

Written independently of the vectorized code (re, hashlib, hmac, phonenumbers one value at
a time); only the phone library path (`parse_phone`) is shared, because it *is* the
reference the fast path must agree with.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from resolver.pipeline.normalize import parse_phone

WS = " \t\r\n\x0b\x0c"
ZERO_MAID = "00000000-0000-0000-0000-000000000000"
BLOCKED = {
    hashlib.sha256(ZERO_MAID.encode()).hexdigest(),
    hashlib.sha256(ZERO_MAID.replace("-", "").encode()).hexdigest(),
    hashlib.sha256(b"").hexdigest(),
    "0" * 64,
}


def sha(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def email(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip(WS).lower()
    if re.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+", v) is None:
        return None
    return v


def email_form(canonical: str | None, rule: str) -> str | None:
    if canonical is None:
        return None
    local, domain = canonical.split("@")
    if rule == "strip_plus_tag":
        local = local.split("+", 1)[0]
    elif rule == "uid2_gmail" and domain == "gmail.com":
        local = local.split("+", 1)[0].replace(".", "")
    return None if not local else f"{local}@{domain}"


def phone(value: str | None, region: str) -> str | None:
    if value is None or not value.strip(WS):
        return None
    return parse_phone(value.strip(WS), region)


def phone_form(e164: str | None, rule: str) -> str | None:
    if e164 is None:
        return None
    return e164 if rule == "e164" else e164[1:]


def maid(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip(WS).lower()
    if re.fullmatch(r"[0-9a-f]{32}", v):
        v = f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
    return v if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", v) else None


def prehashed(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip(WS).lower()
    return v if re.fullmatch(r"[0-9a-f]{64}", v) and v not in BLOCKED else None


def node_key(node_hmac_key: str, family: str, node_sha: str) -> bytes:
    return hmac.new(node_hmac_key.encode(), f"{family}:{node_sha}".encode(), "sha256").digest()
