"""`python -m kudu_state` and the `kudu-state` console script: the Rust command, run in-process.

Output and exit statuses are those of the Rust `kudu-state` binary (same `kudu_state_cli::run`).
"""

import signal
import sys

from kudu_state._native import run_cli


def main() -> None:
    # Ctrl-C ends the command as it ends the Rust binary: the native code holds no GIL while it runs,
    # so Python's own SIGINT handler could only act after the command returned.
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(run_cli(sys.argv[1:]))


if __name__ == "__main__":
    main()
