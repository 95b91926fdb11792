"""Tessera resolver: partner files in, keyed pseudonymous person IDs and segments out.

The public face; everything else in the package is internal.
"""

from resolver.home import Home
from resolver.keys import KeyRing

__all__ = ["Home", "KeyRing"]
# The segments API (resolver.api.Segments) is imported from its module, not here: the
# package face stays light for the CLI.
