"""How Polars' allocator gives memory back; imported first, before anything loads Polars.

Polars allocates through jemalloc and configures it to keep pages it has freed for 0.5 s
(dirty) and 1 s (muzzy) before returning them; it appends `_RJEM_MALLOC_CONF` to its own
settings, so what is set here wins. A graph rebuild alternates Polars steps with numpy
ones, so that kept memory sits beside numpy's arrays and the peak carries both: a rebuild
of 100M edges peaked at 8.58 GiB with the pages kept and 8.19 GiB with them returned at
once, in 174 s and 163 s (benchmarks/README.md). A value already in the environment wins.
"""

from __future__ import annotations

import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
