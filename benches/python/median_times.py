#!/usr/bin/env python3
"""median_times.py RUNS -- CMD1... -- CMD2... [-- CMDn...]: times several commands in rounds, each round
running every command once in the order given, after one warm-up round; prints each command's median
wall time in seconds, one per line. On a shared machine the load drifts during a benchmark: timing the
commands in turn, instead of each one's runs in a block, lets the drift weigh on all of them alike, so
their ratios mean something. Exit statuses are ignored (kudu-state exits 10-12 for verdicts). Used by
scripts/bench.sh."""
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cmds, cur = [], None
for arg in sys.argv[2:]:
    if arg == "--":
        cur = []
        cmds.append(cur)
    elif cur is not None:
        cur.append(arg)
times = [[] for _ in cmds]
for round_ in range(runs + 1):
    for i, cmd in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_ > 0:
            times[i].append(time.perf_counter() - t)
for t in times:
    print(f"{statistics.median(t):.6f}")
