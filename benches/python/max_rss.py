#!/usr/bin/env python3
"""max_rss.py CMD...: runs CMD and prints its peak resident set size in KiB (getrusage of children)."""
import resource
import subprocess
import sys

subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
