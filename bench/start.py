"""What a candidate's start costs the web tier, step by step.

    .venv/bin/python bench/start.py [--n 20]

An exam's start is every candidate doing the same five requests at once:
the log-in page, the log-in (the password hasher), the catalogue, the start
of a timed attempt, the attempt page. This runs them `--n` times, each time
as another candidate, through Django's test client in this process with
the production settings (`DEBUG=0`, Redis sessions, JSON logs) on the
database `bench/load.py` uses (examsite_load, prepared here), and prints the
CPU time of each step and its share of the whole start. CPU time, not wall
time: it is what limits how many starts a second the machine can take
(docs/performance.md, "The bottleneck now").
"""

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import DATABASE_URL, EXAM, PASSWORD, REDIS_URL  # noqa: E402

STEPS = ("GET log-in page", "POST log-in", "GET catalogue", "POST start", "GET attempt page")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--prepare", "--candidates", str(args.n), "--reviewers", "0"],
        check=True,
        env={**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL},
        stdout=subprocess.DEVNULL,
    )
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        DEBUG="0",
        LOG_FORMAT="json",
        SECRET_KEY="bench-start-" + "k" * 50,
        ALLOWED_HOSTS="testserver",
        SECURE_COOKIES="0",
        DJANGO_SETTINGS_MODULE="examsite.settings",
    )
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    import django

    django.setup()
    logging.disable(logging.INFO)  # the request log lines: their cost is measured in bench/load.py
    from django.test import Client

    client = Client()
    client.get("/accounts/login/")  # loads the middleware once, as a running server has
    spent: dict[str, list[float]] = {step: [] for step in STEPS}

    def timed(step: str, request):
        began = time.process_time()
        response = request()
        spent[step].append((time.process_time() - began) * 1000)
        return response

    for i in range(args.n):
        client.cookies.clear()
        username = f"load-candidate-{i}"
        timed("GET log-in page", lambda: client.get("/accounts/login/"))
        login = {"username": username, "password": PASSWORD}
        response = timed("POST log-in", lambda: client.post("/accounts/login/", login))  # noqa: B023
        assert response.status_code == 302, f"log-in answered {response.status_code}"
        timed("GET catalogue", lambda: client.get("/"))
        start = {"mode": "timed", "confirmed": "yes"}
        response = timed("POST start", lambda: client.post(f"/exams/{EXAM}/start/", start))  # noqa: B023
        assert response.status_code == 302, f"start answered {response.status_code}"
        page = timed("GET attempt page", lambda: client.get(response["Location"]))  # noqa: B023
        assert page.status_code == 200, f"attempt page answered {page.status_code}"

    medians = {step: sorted(times)[len(times) // 2] for step, times in spent.items()}
    whole = sum(medians.values())
    print(f"a candidate's start, median CPU of {args.n} candidates, in this process:")
    for step, ms in medians.items():
        print(f"  {step:<18} {ms:6.1f} ms  {ms / whole:5.0%}")
    print(f"  {'the whole start':<18} {whole:6.1f} ms  100%")
    print(f"  starts a second one core can take: {1000 / whole:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
