"""Errors of the distributor. Messages name endpoints, codes, accounts and segments; never
tokens, secrets or user identifiers.

DistributorError        base of every error the distributor raises on purpose
  RuleError             a rule forbids it (one ad account per segment, names, the cap, an
                        unknown account or platform); the message names the fix
  Busy                  another run holds the distribution; the message names it
  DestinationError      a platform call failed (`code`: the platform's or the HTTP status)
    AuthError           the token is invalid, revoked or lacks the role: stop the account
      RunStopped        ... in the middle of a run (`report`: the partial metrics)
    TransientError      5xx, timed out, dropped: retried (`retry_after`)
      Throttled         over the rate limit (TikTok 40100, HTTP 429): retried on the
                        scale of the limit's windows (1 s and 60 s), not of outages
    BadRequest          the platform refused the request's content (TikTok 40002)
    AudienceGone        the audience was deleted on the platform (`--recreate`)

Destinations translate their platform's envelope into these at the boundary, so the
executor decides retries from the type alone. The command line also reports the
resolver's errors (resolver.ResolverError: an unknown segment, say) and bad settings
(config.SettingsError) as one line; anything else is a bug.

Exit codes of the `distributor` command (cli/__init__.py): 0 done (every member that can
be synced is); 1 an error before or instead of sending (a rule, a bad setting, an unknown
name, a platform error on a control call); 2 usage; 3 partial (a run finished, but some
members errored or are still pending: sync again); 4 stopped (AuthError, RunStopped:
re-authorize); 5 audience gone (AudienceGone: distribute again with --recreate); 6 busy
(Busy); 130 interrupted (Ctrl-C: the next run resumes).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributor.metrics import RunReport


def command(*words: str) -> str:
    """A command for a message, quoted so that it works when pasted into a shell (a
    segment named sports fans is 'sports fans')."""
    return "`" + shlex.join(words) + "`"


class DistributorError(Exception):
    """Base of every error the distributor raises on purpose."""


class RuleError(DistributorError):
    """A distribution or account breaks a rule; the message names the fix."""


class Busy(DistributorError):
    """Another process is running this distribution; the message says which."""


class DestinationError(DistributorError):
    """A call failed; the message names the endpoint and code, never tokens or ids."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class AuthError(DestinationError):
    """The token is invalid or revoked, or lost permission: stop the account, no retry."""


class RunStopped(AuthError):
    """The account's token stopped working mid-run; `report` holds the partial metrics."""

    def __init__(self, message: str, report: RunReport) -> None:
        super().__init__(message)
        self.report = report


class TransientError(DestinationError):
    """Throttled, 5xx, timeout or dropped connection: retry with backoff."""

    def __init__(self, message: str, code: int | None = None, retry_after: float = 0.0) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        """What went wrong, in a word or two, for a "retrying (...)" line."""
        if isinstance(self, Throttled):
            return "throttled"
        if self.code is not None:
            return f"HTTP {self.code}" if 100 <= self.code < 600 else f"error {self.code}"
        return "timed out" if "timed out" in str(self) else "connection failed"


class Throttled(TransientError):
    """Over the platform's rate limit: retry on the scale of the limit's window."""


class BadRequest(DestinationError):
    """The platform refused the request's content; retrying it will not help."""


class AudienceGone(DestinationError):
    """The distribution's audience no longer exists on the platform (deleted there)."""

    def __init__(self, message: str, report: RunReport | None = None) -> None:
        super().__init__(message)
        self.report = report
