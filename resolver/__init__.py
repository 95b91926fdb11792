"""Tessera resolver: partner files in, keyed pseudonymous person IDs and segments out.

The public face; everything else in the package is internal.
"""

from resolver.home import Home
from resolver.keys import KeyRing

__all__ = ["Home", "KeyRing"]
