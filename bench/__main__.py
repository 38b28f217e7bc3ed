"""Every benchmark, one after another, each in a process of its own at its default size:

    uv run python -m bench                      # all of them
    uv run python -m bench steady broadcast     # some of them

Each also runs alone (`uv run python -m bench.steady`), with flags for its sizes (`--help`).
Figures go to bench/results/<name>.json; docs/performance.md summarises them."""

import subprocess
import sys
import time

# Cheapest first, so that a broken setup shows before the long runs.
BENCHMARKS = [
    "floor",
    "throughput",
    "steady",
    "stalled",
    "broadcast",
    "connections",
    "inbox",
    "delivery",
]


def main() -> int:
    chosen = sys.argv[1:] or BENCHMARKS
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    for name in chosen:
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode:
            failed.append(name)
        print(f"== bench.{name}: {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
