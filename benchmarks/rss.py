"""Run a command and print its wall time and peak RSS as JSON (a small, clean parent, so
the child's high-water mark is its own and not a copy of a large parent's)."""

import json
import os
import subprocess
import sys
import time

started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(
    json.dumps(
        {"seconds": time.perf_counter() - started, "peak_kib": usage.ru_maxrss, "status": status}
    )
)
