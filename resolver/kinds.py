"""Identifier kinds and reject codes: the vocabulary every stage shares."""

from __future__ import annotations

from typing import Final

# Input kinds, as detected from column headers.
EMAIL: Final = "email"
EMAIL_SHA256: Final = "email_sha256"
PHONE: Final = "phone"
PHONE_SHA256: Final = "phone_sha256"
MAID: Final = "maid"
IDFA: Final = "idfa"
GAID: Final = "gaid"
SEGMENT: Final = "segment"
ACTION: Final = "action"

IDENTIFIER_KINDS: Final = (EMAIL, EMAIL_SHA256, PHONE, PHONE_SHA256, MAID, IDFA, GAID)
MAID_KINDS: Final = (IDFA, GAID, MAID)  # first valid one wins, in this order

# Identifier families: what a node and a match key are about. Priority order for the
# person a row resolves to (until the identity graph links them): email, phone, maid.
FAMILIES: Final = ("email", "phone", "maid")
FAMILY_OF: Final = {
    EMAIL: "email",
    EMAIL_SHA256: "email",
    PHONE: "phone",
    PHONE_SHA256: "phone",
    MAID: "maid",
    IDFA: "maid",
    GAID: "maid",
}

# The all-zero MAID: a device with ad tracking limited. It carries no identity.
ALL_ZERO_MAID: Final = "00000000-0000-0000-0000-000000000000"

# Reject codes (stable: they appear in outputs and reports).
INVALID_EMAIL: Final = "invalid_email"
INVALID_PHONE: Final = "invalid_phone"
INVALID_MAID: Final = "invalid_maid"
ZERO_MAID: Final = "zero_maid"
INVALID_HASH: Final = "invalid_hash"
NO_IDENTIFIER: Final = "no_identifier"
INVALID_ACTION: Final = "invalid_action"
INVALID_SEGMENT: Final = "invalid_segment"  # a segment name over 128 characters, or control
BLOCKED_IDENTIFIER: Final = "blocked_identifier"  # every identifier is blocklisted junk
FORGOTTEN: Final = "forgotten"  # carries an identifier erased by `resolver forget`

# Columns prepare() returns, in order (contract C1). MATCH_COLUMNS are the destination
# match keys: SHA-256 of each family's profile form, the only values the store keeps sealed.
NODE_COLUMNS: Final = ("email_node", "phone_node", "maid_node")
MATCH_COLUMNS: Final = ("email_sha256", "phone_sha256", "maid_sha256")
ERROR_COLUMNS: Final = ("email_error", "phone_error", "maid_error")
PREPARED_COLUMNS: Final = (*NODE_COLUMNS, *MATCH_COLUMNS, "maid_type", *ERROR_COLUMNS)
# A row's identifiers as node ids of its partner's graph (segment snapshots, members).
NODE_ID_COLUMNS: Final = ("email_node_id", "phone_node_id", "maid_node_id")
