"""What a log-in costs: Django's default password hasher vs. the site's.

    .venv/bin/python bench/login.py [--n 20]

Verifies one password `--n` times with each hasher, in this process, and
prints the CPU time and the wall time per verify, side by side, with their
ratio, and what that means for 200 candidates logging in at an exam's start
on this machine's cores. Run it on a quiet machine: other load moves the
wall times (the CPU times much less).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import PBKDF2PasswordHasher  # noqa: E402

from examsite.hashers import Argon2idHasher  # noqa: E402

PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark's own)


def measure(hasher, n: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per verify of a right password."""
    encoded = hasher.encode(PASSWORD, hasher.salt())
    hasher.verify(PASSWORD, encoded)  # warm
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        assert hasher.verify(PASSWORD, encoded)
    return (time.process_time() - cpu) / n * 1000, (time.perf_counter() - wall) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = [
        (f"PBKDF2-SHA256, {PBKDF2PasswordHasher.iterations:,} iterations (Django's default)", PBKDF2PasswordHasher()),
        (
            f"Argon2id, {Argon2idHasher.memory_cost // 1024} MiB, {Argon2idHasher.time_cost} passes, "
            f"{Argon2idHasher.parallelism} lane (the site's)",
            Argon2idHasher(),
        ),
    ]
    results = [(name, *measure(hasher, args.n)) for name, hasher in rows]
    print(f"{'hasher':<66} {'CPU ms':>8} {'wall ms':>8} {'200 log-ins, s of all cores':>28}")
    for name, cpu, wall in results:
        print(f"{name:<66} {cpu:>8.1f} {wall:>8.1f} {200 * cpu / 1000 / cores:>28.1f}")
    print(f"ratio (default / site's), CPU: {results[0][1] / results[1][1]:.1f}x  ({cores} cores, n={args.n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
