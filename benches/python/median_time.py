#!/usr/bin/env python3
"""median_time.py RUNS -- CMD...: runs CMD once to warm caches, then RUNS times; prints the median wall
time in seconds. Exit status of CMD is ignored (kudu-state exits 10-12 for verdicts). Used by
scripts/bench.sh when hyperfine is not installed."""
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1 :]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.6f}")
