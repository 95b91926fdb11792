"""Faults the emulator can inject, for tests and benchmarks (POST /_sandbox/faults): added
latency, 5xx answers, bursts of 40100 throttling, dropped connections (before or after
the request is applied, with equal odds), ids that make a mapping request fail 40002, and
parameters checked before permission."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate_5xx: float = 0.0
    throttle_burst: int = 0
    drop_rate: float = 0.0
    # Ids whose presence makes a mapping request fail with 40002, as TikTok does for a
    # batch it finds malformed: lets tests check that bad rows are isolated.
    poison_ids: list[str] = field(default_factory=list)
    # Check a mapping's parameters before the token's permission (TikTok's order is not
    # documented; some report 40002 for permission problems): a client must not read a
    # 40002 to an empty probe as proof of the Admin or Operator role.
    params_first: bool = False
    # Revoke the requesting token after this many accepted mapping requests (0: never), so
    # a token can stop working in the middle of an upload.
    revoke_after: int = 0
    # Delete the audience after this many accepted mapping requests to it (0: never), as
    # an advertiser deleting it in Ads Manager in the middle of an upload.
    delete_after: int = 0

    def update(self, data: dict[str, Any]) -> None:
        if not data:
            self.__init__()  # type: ignore[misc]
            return
        unknown = sorted(set(data) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(unknown)}")
        if "poison_ids" in data:
            self.poison_ids = [str(v) for v in data["poison_ids"]]
        for name in ("latency_ms", "error_rate_5xx", "drop_rate"):
            if name in data:
                setattr(self, name, float(data[name]))
        if "throttle_burst" in data:
            self.throttle_burst = int(data["throttle_burst"])
        if "params_first" in data:
            self.params_first = bool(data["params_first"])
        for name in ("revoke_after", "delete_after"):
            if name in data:
                setattr(self, name, int(data[name]))
