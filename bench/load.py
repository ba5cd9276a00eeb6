"""Many candidates at once, against the production shape on this machine.

    make bench-load ARGS="--candidates 200 --duration 120"
    .venv/bin/python bench/load.py [--candidates N] [--reviewers R] [--ramp S] [--duration S]

It starts the stack of `make stack` (gunicorn, a Celery worker, beat; see
docs/operations.md) on a free loopback port, on its own PostgreSQL database
(examsite_load: created, migrated and imported when needed; the load users
and everything they did are deleted first) and Redis db 8 (flushed), never
the development data. Then Locust, headless, in this process:

- each simulated candidate logs in (the real password hasher), starts a
  timed attempt, opens its page, autosaves an answer every ~5 s with the
  revision the last save returned, reveals one model answer once, runs a
  drill once and polls its result, and submits at the end;
- each simulated reviewer works the review queue: opens it, opens an
  attempt, marks an item.

All candidates log in during the ramp (`--ramp`, default 30 s), the way an
exam's start looks, while those already in keep working. It prints, for the
ramp and for the whole run: requests per second, p50/p95/p99 per endpoint,
errors; the machine's busy share; and run -> result latency (from the Run
tests click to the poll that saw the result). Figures only: it exits non-zero
only when it could not run.
"""

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_DB = "examsite_load"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{LOAD_DB}"
REDIS_URL = "redis://127.0.0.1:6379/8"
PASSWORD = "load-test-password-9"
EXAM = "serving-reliability"
SEEDED_FOR_REVIEW = 30  # finalized attempts waiting in the reviewers' queue
CODE = "def peak_streams(events):\n    return 0\n"


# Preparing the database: run in a child process, with Django and without
# Locust's gevent patching.


def prepare(candidates: int, reviewers: int) -> None:
    sys.path.insert(0, str(ROOT))
    from examsite.stack import create_database

    create_database(DATABASE_URL)
    flush_redis()
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from exams.models import Attempt, Exam
    from grading.models import Membership, Review, Team

    call_command("migrate", verbosity=0)
    call_command("import_exams", verbosity=0)
    User = get_user_model()
    with transaction.atomic():
        old = User.objects.filter(username__startswith="load-")
        Review.objects.filter(attempt__user__in=old).delete()
        Review.objects.filter(reviewer__in=old).delete()
        Attempt.objects.filter(user__in=old).delete()
        Team.objects.filter(slug="load-team").delete()
        old.delete()
        # One hash for everyone (the same password): hashing 400 passwords
        # here would cost minutes; logging in still verifies with the real hasher.
        hashed = make_password(PASSWORD)
        names = [f"load-candidate-{i}" for i in range(candidates)]
        names += [f"load-reviewer-{i}" for i in range(reviewers)]
        names += [f"load-seeded-{i}" for i in range(SEEDED_FOR_REVIEW)]
        User.objects.bulk_create([User(username=name, password=hashed) for name in names])
        team = Team.objects.create(name="Load team", slug="load-team")
        users = {u.username: u for u in User.objects.filter(username__startswith="load-")}
        Membership.objects.bulk_create(
            Membership(
                team=team,
                user=user,
                role=Membership.Role.REVIEWER if name.startswith("load-reviewer") else Membership.Role.MEMBER,
            )
            for name, user in users.items()
        )
        exam = Exam.objects.get(slug=EXAM)
        for i in range(SEEDED_FOR_REVIEW):
            attempt, _ = Attempt.start(users[f"load-seeded-{i}"], exam, Attempt.Mode.TIMED)
            attempt.finalize(Attempt.Status.SUBMITTED)


def grading_report() -> None:
    """Where a run's time went on the server: waiting in the queue, then
    being graded (sandbox and storing), for the load candidates' runs."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")
    import django

    django.setup()
    from grading.models import Submission

    runs = Submission.objects.filter(
        attempt__user__username__startswith="load-candidate-", source=Submission.Source.RUN
    ).values_list("created_at", "started_at", "finished_at", "claims")
    waits, grades = Counter(), Counter()  # {ms: count}, as percentile() reads them
    unfinished = twice = 0
    for created, started, finished, claims in runs:
        twice += claims > 1
        if started is None or finished is None:
            unfinished += 1
            continue
        waits[round((started - created).total_seconds() * 1000)] += 1
        grades[round((finished - started).total_seconds() * 1000)] += 1

    graded = sum(waits.values())
    print(f"\nruns on the server ({graded} graded, {unfinished} not finished, {twice} claimed twice):")
    for label, times in (("queued -> taken by a worker", waits), ("taken -> graded and stored", grades)):
        print(f"  {label:<28} p50 {percentile(times, 50):6.0f} ms   p95 {percentile(times, 95):6.0f} ms")


# The stack.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def start_stack(port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "LOG_LEVEL": "WARNING"}
    log = open(log_path, "wb")  # noqa: SIM115 (the stack's whole life)
    return subprocess.Popen(
        [sys.executable, "-m", "examsite.stack", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the stack exited with {proc.returncode}; see var/load-stack.log")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as r:
            if r.status == 200:
                return
        time.sleep(1)
    raise SystemExit(f"the stack was not ready within {timeout:g} s; see var/load-stack.log")


def stop_stack(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# The machine's busy share, from /proc/stat.


def cpu_times() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


# Where the CPU went: every process's user + system time, by what it is.
TICKS = os.sysconf("SC_CLK_TCK")
KINDS = (
    ("gunicorn", "web (gunicorn)"),
    ("celery -A examsite worker", "Celery worker"),
    ("celery -A examsite beat", "Celery beat"),
    ("postgres", "PostgreSQL"),
    ("redis-server", "Redis"),
    ("bench/load.py", "load generator (Locust)"),
    ("-m honcho start", "honcho (relays the logs)"),
)
SANDBOX = "sandbox (candidates' code)"


def process_cpu() -> dict[int, tuple[str, float]]:
    """pid -> (kind, CPU seconds so far) of the processes this bench reads."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = next((label for needle, label in KINDS if needle in cmdline), None)
        if kind is None and ("bwrap" in cmdline or "harness" in cmdline):
            kind = SANDBOX
        if kind is not None:
            # utime, stime, and the waited-for children's (sandboxes that ended)
            seconds = sum(int(v) for v in fields[11:15]) / TICKS
            table[int(entry.name)] = (kind, seconds)
    return table


def cpu_by_kind(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per kind between two readings; a process that ended in
    between counts in its parent's children's time, once it was waited for."""
    spent: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        spent[kind] = spent.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1]
    return spent


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total, idle = after[0] - before[0], after[1] - before[1]
    return 1 - idle / total if total else 0.0


# Figures.


def percentile(histogram: dict[int, int], pct: float) -> float:
    """The pct-th percentile of Locust's rounded response times {ms: count}."""
    count = sum(histogram.values())
    if not count:
        return 0.0
    rank = pct / 100 * count
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= rank:
            return float(ms)
    return float(max(histogram))


def snapshot(stats) -> dict[tuple[str, str], dict]:
    return {
        key: {"n": e.num_requests, "failures": e.num_failures, "times": dict(e.response_times)}
        for key, e in stats.entries.items()
    }


def difference(later: dict, earlier: dict) -> dict:
    result = {}
    for key, entry in later.items():
        before = earlier.get(key, {"n": 0, "failures": 0, "times": {}})
        times = {ms: c - before["times"].get(ms, 0) for ms, c in entry["times"].items()}
        result[key] = {
            "n": entry["n"] - before["n"],
            "failures": entry["failures"] - before["failures"],
            "times": {ms: c for ms, c in times.items() if c},
        }
    return result


def table(title: str, entries: dict, seconds: float, busy: float) -> str:
    lines = [
        f"\n{title}: {seconds:.0f} s, machine busy {busy:.0%}",
        f"{'endpoint':<28} {'requests':>9} {'per s':>7} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}",
    ]
    total = errors = 0
    for (name, method), e in sorted(entries.items()):
        if not e["n"]:
            continue
        total += e["n"] if method != "GRADE" else 0
        errors += e["failures"]
        label = name if method != "GRADE" else f"{name} (latency)"
        lines.append(
            f"{label:<28} {e['n']:>9} {e['n'] / seconds:>7.1f} {e['failures']:>7} "
            f"{percentile(e['times'], 50):>7.0f} {percentile(e['times'], 95):>7.0f} {percentile(e['times'], 99):>7.0f}"
        )
    lines.append(f"{'all requests':<28} {total:>9} {total / seconds:>7.1f} {errors:>7}")
    return "\n".join(lines)


# The simulated users. Locust is imported only here: it patches the standard
# library with gevent at import.


def user_classes(exam: str, run_duration: float):
    from locust import FastHttpUser, between, task

    token_re = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    save_re = re.compile(r'action="/attempts/(\d+)/items/(\d+)/save/" class="answer-form[^"]*" id="form-\d+-(\w+)"')
    revision_re = re.compile(r'name="revision" value="(\d+)"')
    reveal_re = re.compile(r"/attempts/\d+/items/(\d+)/reveal/")
    poll_re = re.compile(r'hx-get="/submissions/(\d+)/"')
    review_re = re.compile(r'href="/review/attempts/(\d+)/"')
    mark_re = re.compile(r'action="(/review/attempts/\d+/items/\d+/mark/)"')
    criterion_re = re.compile(r'name="criteria" value="(\d+)"')

    class Person(FastHttpUser):
        abstract = True
        username = ""
        counter = {"candidate": 0, "reviewer": 0}

        def token(self, html: str) -> str:
            match = token_re.search(html)
            return match.group(1) if match else ""

        def log_in(self) -> str:
            page = self.client.get("/accounts/login/", name="GET /accounts/login/")
            with self.client.post(
                "/accounts/login/",
                data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": self.token(page.text)},
                name="POST /accounts/login/",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != 302:
                    response.failure(f"login answered {response.status_code}")
            return self.token(self.client.get("/", name="GET /").text)

    class Candidate(Person):
        wait_time = between(4, 6)  # between autosaves

        def on_start(self):
            kind = "candidate"
            self.username = f"load-{kind}-{Person.counter[kind]}"
            Person.counter[kind] += 1
            self.csrf = self.log_in()
            self.started = time.monotonic()
            response = self.client.post(
                f"/exams/{exam}/start/",
                data={"mode": "timed", "confirmed": "yes", "csrfmiddlewaretoken": self.csrf},
                name="POST /exams/[slug]/start/",
                allow_redirects=False,
            )
            self.attempt_url = response.headers.get("Location", "")
            page = self.client.get(self.attempt_url, name="GET /attempts/[pk]/").text
            self.csrf = self.token(page) or self.csrf
            forms = save_re.findall(page)
            self.texts = [(f"/attempts/{a}/items/{i}/save/", 0) for a, i, part in forms if part == "text"]
            self.code = next((f"/attempts/{a}/items/{i}/" for a, i, part in forms if part == "code"), None)
            self.reveals = reveal_re.findall(page)
            self.answer = ""
            self.revealed = self.ran = self.submitted = False

        def headers(self) -> dict:
            return {"HX-Request": "true", "X-CSRFToken": self.csrf}

        @task
        def work(self):
            if self.submitted:
                return
            if time.monotonic() - self.started > run_duration - 10:
                self.submit()
                return
            if self.texts:
                self.autosave()
            if not self.revealed and random.random() < 0.1 and self.reveals:
                self.reveal()
            if not self.ran and random.random() < 0.1 and self.code:
                self.run_tests()

        def autosave(self):
            index = random.randrange(len(self.texts))
            url, revision = self.texts[index]
            self.answer += "Shed load early, keep p99 under the budget. "
            with self.client.post(
                url,
                data={"part": "text", "content": self.answer[-4000:], "revision": revision},
                headers=self.headers(),
                name="POST autosave",
                catch_response=True,
            ) as response:
                match = revision_re.search(response.text or "")
                if response.status_code != 200 or not match:
                    response.failure(f"autosave answered {response.status_code}")
                    return
                self.texts[index] = (url, int(match.group(1)))

        def reveal(self):
            self.revealed = True
            item = random.choice(self.reveals)
            # In a timed attempt a reveal locks that item's answer: stop saving it.
            self.texts = [entry for entry in self.texts if f"/items/{item}/" not in entry[0]]
            if self.code and f"/items/{item}/" in self.code:
                self.ran = True  # its code is locked too: no run
            self.client.post(f"{self.attempt_url}items/{item}/reveal/", headers=self.headers(), name="POST reveal")

        def run_tests(self):
            self.ran = True
            clicked = time.monotonic()
            response = self.client.post(
                f"{self.code}run/",
                data={"part": "code", "content": CODE, "revision": 0},
                headers=self.headers(),
                name="POST run tests",
            )
            match = poll_re.search(response.text or "")
            if not match:
                return
            for _ in range(240):
                time.sleep(0.5)  # the page polls every 500 ms
                with self.client.get(
                    f"/submissions/{match.group(1)}/", headers=self.headers(), name="GET poll run", catch_response=True
                ) as poll:
                    done = poll.status_code == 286  # htmx: stop polling, the result is in
                    if done or poll.status_code == 200:
                        poll.success()
                if done:
                    self.environment.events.request.fire(
                        request_type="GRADE",
                        name="run -> result",
                        response_time=(time.monotonic() - clicked) * 1000,
                        response_length=0,
                        exception=None,
                        context={},
                    )
                    return
            self.environment.events.request.fire(
                request_type="GRADE",
                name="run -> result",
                response_time=(time.monotonic() - clicked) * 1000,
                response_length=0,
                exception=TimeoutError("no result within 120 s"),
                context={},
            )

        def submit(self):
            self.submitted = True
            self.client.post(f"{self.attempt_url}submit/", data={"csrfmiddlewaretoken": self.csrf}, name="POST submit")

    class Reviewer(Person):
        wait_time = between(5, 10)

        def on_start(self):
            kind = "reviewer"
            self.username = f"load-{kind}-{Person.counter[kind]}"
            Person.counter[kind] += 1
            self.csrf = self.log_in()

        @task
        def review(self):
            queue = self.client.get("/review/", name="GET /review/").text
            attempts = review_re.findall(queue)
            if not attempts:
                return
            page = self.client.get(f"/review/attempts/{random.choice(attempts)}/", name="GET /review/attempts/[pk]/")
            marks = mark_re.findall(page.text)
            revision = revision_re.search(page.text)
            if not marks or not revision:
                return
            self.client.post(
                random.choice(marks),
                data={
                    "criteria": criterion_re.findall(page.text)[:1],
                    "adjustment": "0",
                    "reason": "",
                    "comment": "Clear on the budget.",
                    "revision": revision.group(1),
                    "csrfmiddlewaretoken": self.token(page.text) or self.csrf,
                },
                name="POST mark",
            )

    return Candidate, Reviewer


def watch(stats, began: float, every: float = 10.0) -> None:
    """Print, every `every` seconds, that window's requests, autosave p95,
    worst p95 of any other request, and the machine's busy share: where in
    the run the slow requests were."""
    import gevent

    print(f"\n{'window':>9} {'busy':>5} {'req/s':>6} {'autosave p95':>13} {'worst other p95':>28}", flush=True)
    before, cpu_before = snapshot(stats), cpu_times()
    while True:
        gevent.sleep(every)
        now, cpu_now = snapshot(stats), cpu_times()
        window = difference(now, before)
        requests = sum(e["n"] for (_, method), e in window.items() if method != "GRADE")
        autosave = percentile(window.get(("POST autosave", "POST"), {}).get("times", {}), 95)
        others = [
            (percentile(e["times"], 95), name)
            for (name, method), e in window.items()
            if e["n"] and method != "GRADE" and name != "POST autosave"
        ]
        worst = max(others, default=(0.0, "-"))
        elapsed = time.monotonic() - began
        print(
            f"{elapsed - every:4.0f}-{elapsed:<4.0f} {busy_share(cpu_before, cpu_now):5.0%} {requests / every:6.1f} "
            f"{autosave:10.0f} ms {worst[0]:7.0f} ms {worst[1][:18]:<18}",
            flush=True,
        )
        before, cpu_before = now, cpu_now


def run_load(port: int, candidates: int, reviewers: int, ramp: float, duration: float) -> None:
    import gevent
    from locust.env import Environment

    Candidate, Reviewer = user_classes(EXAM, duration)
    Candidate.host = Reviewer.host = f"http://127.0.0.1:{port}"
    Candidate.fixed_count, Reviewer.fixed_count = candidates, reviewers
    env = Environment(user_classes=[Candidate, Reviewer])
    runner = env.create_local_runner()
    cpu_start, processes_start = cpu_times(), process_cpu()
    began = time.monotonic()
    runner.start(candidates + reviewers, spawn_rate=(candidates + reviewers) / ramp)
    timeline = gevent.spawn(watch, env.stats, began)
    gevent.sleep(ramp)
    ramp_stats, cpu_ramp = snapshot(env.stats), cpu_times()
    ramp_seconds = time.monotonic() - began
    gevent.sleep(max(0.0, duration - ramp))
    runner.quit()
    timeline.kill()
    whole, cpu_end, processes_end = snapshot(env.stats), cpu_times(), process_cpu()
    seconds = time.monotonic() - began
    print(f"\n{candidates} candidates and {reviewers} reviewers on http://127.0.0.1:{port}, "
          f"all logged in within the first {ramp:.0f} s")  # fmt: skip
    print(
        table(
            "ramp (everyone logging in, the first ones working)",
            ramp_stats,
            ramp_seconds,
            busy_share(cpu_start, cpu_ramp),
        )
    )
    after_ramp = difference(whole, ramp_stats)
    print(table("after the ramp", after_ramp, seconds - ramp_seconds, busy_share(cpu_ramp, cpu_end)))
    print(table("whole run", whole, seconds, busy_share(cpu_start, cpu_end)))
    spent = cpu_by_kind(processes_start, processes_end)
    requests = sum(e["n"] for (name, method), e in whole.items() if method != "GRADE")
    print(f"\nwhere the CPU went over the whole run ({os.cpu_count()} cores, {seconds:.0f} s):")
    for kind, cpu in sorted(spent.items(), key=lambda kv: -kv[1]):
        per_request = cpu / max(requests, 1) * 1000
        print(f"  {kind:<28} {cpu:7.1f} s  {cpu / seconds:5.2f} cores  {per_request:6.1f} ms per request")
    for error in sorted(env.stats.errors.values(), key=lambda e: -e.occurrences)[:10]:
        print(f"error x{error.occurrences}: {error.method} {error.name}: {error.error}")
    summary = {
        f"{method} {name}".strip(): {
            "n": e["n"],
            "errors": e["failures"],
            "p95_ms": percentile(e["times"], 95),
        }
        for (name, method), e in whole.items()
    }
    (ROOT / "var" / "load-last.json").write_text(json.dumps(summary, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--ramp", type=float, default=30, help="seconds over which every user logs in")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load in all, ramp included")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--grading-report", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.candidates, args.reviewers)
        return 0
    if args.grading_report:
        grading_report()
        return 0
    (ROOT / "var").mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--prepare",
            "--candidates",
            str(args.candidates),
            "--reviewers",
            str(args.reviewers),
        ],
        check=True,
        env={**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL},
    )
    port = free_port()
    stack = start_stack(port, ROOT / "var" / "load-stack.log")
    try:
        wait_ready(port, stack)
        run_load(port, args.candidates, args.reviewers, args.ramp, args.duration)
    finally:
        stop_stack(stack)
    subprocess.run([sys.executable, __file__, "--grading-report"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
