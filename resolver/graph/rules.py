"""The guardrails of the identity graph, as versioned configuration.

Kinds have a priority, email > phone > MAID (`kinds.FAMILIES` order). The rules, each
counted in `graph stats` and named in `graph explain` (never with values):

- **blocklist**: known junk (all-zero and sequential phones, test@test.com-style emails,
  the zero MAID) is never a node that links, nor a match key that is sent.
- **shared**: an identifier seen with more than `max_links` distinct identifiers of one
  other kind (a shop's phone typed for every customer, a family tablet, a group inbox)
  stops linking. It is still sent as a match key for the rows that carry it.
- **bridge**: an identifier seen with two identifiers of a higher-priority kind (a
  landline beside two people's emails) joins them only when `witnesses` other
  identifiers are also seen with both; otherwise it stops linking, like a shared one.
- **chain**: a phone–MAID link between identifiers that sit beside different emails
  needs the same `witnesses` seen with both emails, or it is refused.
- **limits**: a person may hold at most `max_emails`, `max_phones`, `max_maids`
  identifiers and `max_identifiers` in all; a component over a limit is split at its
  lowest-priority links (MAID links first, then phone links) and counted as an alarm.

`version` names the rules: the graph records the version it was built with, and a change
of rules rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from resolver.graph.blocklist import VERSION as BLOCKLIST_VERSION

if TYPE_CHECKING:
    from config.sections import GraphSettings

RULES_FORMAT = 1  # bump when the meaning of a rule changes


@dataclass(frozen=True)
class GraphRules:
    max_links: int = 10
    witnesses: int = 1
    max_emails: int = 5
    max_phones: int = 5
    max_maids: int = 10
    max_identifiers: int = 200
    blocklist: str = BLOCKLIST_VERSION

    @classmethod
    def from_settings(cls, graph: GraphSettings) -> GraphRules:
        return cls(
            max_links=graph.max_links,
            witnesses=graph.witnesses,
            max_emails=graph.max_emails,
            max_phones=graph.max_phones,
            max_maids=graph.max_maids,
            max_identifiers=graph.max_identifiers,
        )

    @property
    def limits(self) -> tuple[int, int, int]:
        """The per-person limit of each kind, in kinds.FAMILIES order."""
        return (self.max_emails, self.max_phones, self.max_maids)

    @property
    def version(self) -> str:
        """A short digest of the rules: equal rules, equal graph."""
        text = json.dumps({"format": RULES_FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]
