"""What the sandbox costs: a trivial drill through the full sandbox vs. the same
harness run by the bare interpreter, interleaved, medians.

    .venv/bin/python bench/sandbox.py [--runs 30]

The bare run is what grading.reference does for trusted code: the interpreter
starts, reads the request and answers, with no isolation at all. The sandboxed
run adds prlimit, setpriv, bubblewrap's namespaces and mounts, the seccomp
filter and the slot lock. The difference is the price of isolation per run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")

django.setup()

from django.conf import settings  # noqa: E402

from grading.sandbox import runner  # noqa: E402
from grading.sandbox.protocol import HARNESS_PATH, build_request, parse_output  # noqa: E402

CODE = "def add(a, b):\n    return a + b\n"
CASES = [{"args": [1, 2]}, {"args": [-7, 1]}, {"args": [1000000, 1]}]


def sandboxed(limits: runner.Limits) -> float:
    started = time.perf_counter()
    result = runner.run(CODE, "add", CASES, limits)
    elapsed = time.perf_counter() - started
    assert [o.value for o in result.harness.outcomes] == [3, -6, 1000001], result
    return elapsed


def bare(limits: runner.Limits) -> float:
    request = build_request(CODE, "add", CASES, limits.case_seconds, limits.output_bytes)
    started = time.perf_counter()
    proc = subprocess.run(
        [settings.SANDBOX_PYTHON, "-I", "-S", str(HARNESS_PATH)], input=request, capture_output=True, check=True
    )
    elapsed = time.perf_counter() - started
    assert [o.value for o in parse_output(proc.stdout, len(CASES)).outcomes] == [3, -6, 1000001]
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    runner.check_available()
    limits = runner.Limits.for_drill({})
    sandboxed(limits)  # warm-up: builds the seccomp program once, fills caches
    bare(limits)
    times: dict[str, list[float]] = {"sandbox": [], "bare": []}
    for _ in range(runs):
        times["sandbox"].append(sandboxed(limits))
        times["bare"].append(bare(limits))
    box = statistics.median(times["sandbox"]) * 1000
    plain = statistics.median(times["bare"]) * 1000
    print(f"runs: {runs} each, interleaved; interpreter {settings.SANDBOX_PYTHON}; {os.cpu_count()} cpus")
    print(f"bare interpreter, median wall: {plain:7.1f} ms")
    print(f"full sandbox,     median wall: {box:7.1f} ms")
    print(f"difference:                    {box - plain:7.1f} ms per run")
    print(f"ratio:                         {box / plain:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
