"""Grading throughput: the sandbox alone vs. submissions through the queue,
the Celery worker and PostgreSQL, end to end.

    .venv/bin/python bench/throughput.py [--n 60] [--drill serving-reliability/peak-streams]

Each phase grades the drill's reference solution `--n` times:

1. ceiling: grader.grade() called back to back by two threads in this
   process (the sandbox and the grader, no queue, no stored result).
2. end to end, all at once: n Submission rows created and enqueued in one
   transaction and graded by a real worker (`celery worker -Q grading,regrade
   --concurrency 2 --pool prefork`); rate, and created_at -> finished_at
   latency read back from the rows.
3. end to end, half rate: n submissions arriving evenly at half the ceiling's
   rate, one transaction each; latency as above.
4. the ceiling again, so that a change in the machine's load shows.

Each phase also says how much CPU it took per grading (this process, the
worker and the sandboxes) and how busy the whole machine was: on a shared
machine, what else runs moves every figure here.

It uses its own PostgreSQL database (examsite_bench: created, migrated and
imported when needed; the bench user's earlier attempts are deleted) and
Redis db 14 (flushed at the start), never the development data. It prints
figures; it exits non-zero only when it could not run (PostgreSQL, Redis or
the sandbox missing, the worker not starting).
"""

import argparse
import contextlib
import io
import os
import queue
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", "5432", "postgres"
BENCH_DB = "examsite_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
BENCH_USER = "bench-throughput"
WORKER_NAME = "bench-throughput@%h"

# Set, not defaulted: a DATABASE_URL left in the shell must not point the
# benchmark (which deletes its own rows) at development data. The worker gets
# the same environment. DEBUG off as in production: with it on, Django keeps
# every query in memory and Celery warns about it.
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{BENCH_DB}"
os.environ["REDIS_URL"] = REDIS_URL
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-throughput-not-a-secret")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402

from exams.models import Attempt, Exam, Item  # noqa: E402
from examsite.celery import app  # noqa: E402
from grading import grader  # noqa: E402
from grading.models import Submission  # noqa: E402
from grading.sandbox import runner  # noqa: E402
from grading.submitting import enqueue  # noqa: E402

FINISHED = (Submission.Status.GRADED, Submission.Status.ERROR)
STALL_SECONDS = 60.0  # give up waiting when no submission finished for this long
TICKS = os.sysconf("SC_CLK_TCK")


class CannotRun(Exception):
    """A service the benchmark needs is missing; nothing was measured."""


@dataclass
class Cpu:
    """CPU seconds: ours (this process, the worker, their sandboxes), the
    PostgreSQL backends serving the bench database, the whole machine's busy
    time, and the machine's capacity (cpus x wall)."""

    ours: float
    postgres: float
    busy: float
    capacity: float

    def __sub__(self, other: "Cpu") -> "Cpu":
        return Cpu(
            self.ours - other.ours,
            self.postgres - other.postgres,
            self.busy - other.busy,
            self.capacity - other.capacity,
        )


def cpu_now(worker_pid: int | None = None) -> Cpu:
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]
    ours = sum(
        getattr(resource.getrusage(who), name)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for name in ("ru_utime", "ru_stime")
    )
    postgres = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                name, after_name = stat.read().split(" (", 1)[1].rsplit(")", 1)
            after_name = after_name.split()
            ticks = sum(int(value) for value in after_name[11:15]) / TICKS  # own and reaped children's
            if name == "postgres":
                with open(f"/proc/{entry.name}/cmdline") as cmdline:
                    if f" {BENCH_DB} " in cmdline.read():
                        postgres += ticks
            # The worker runs in its own session: its main process and pool
            # children, each with the sandboxes it reaped.
            elif worker_pid is not None and int(after_name[3]) == worker_pid:
                ours += ticks
        except (OSError, IndexError, ValueError):
            continue
    return Cpu(ours, postgres, (sum(fields) - idle) / TICKS, sum(fields) / TICKS)


@dataclass
class Phase:
    name: str
    count: int  # gradings that finished
    seconds: float  # first submit (or start) to last finish
    latencies: list[float]  # per grading: submit -> stored, or one grade() call
    run_seconds: list[float]  # per grading: worker claim -> stored (empty for the ceiling)
    failures: int  # not graded, or not every case passed
    cpu: Cpu

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def prepare_database() -> None:
    psql = ["/usr/bin/psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", "postgres", "-tAc"]
    try:
        found = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{BENCH_DB}'"],  # noqa: S608 - a constant
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CannotRun(f"psql did not answer: {exc}") from None
    if found.returncode != 0:
        raise CannotRun(f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {found.stderr.strip()}")
    if found.stdout.strip() != "1":
        createdb = ["/usr/bin/createdb", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, BENCH_DB]
        made = subprocess.run(createdb, capture_output=True, text=True)
        if made.returncode != 0:
            raise CannotRun(f"createdb {BENCH_DB} failed: {made.stderr.strip()}")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("import_exams", stdout=io.StringIO())


def prepare_redis() -> None:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        raise CannotRun(f"Redis at {REDIS_URL} is not reachable: {exc}") from None


def find_drill(name: str) -> Item:
    exam_slug, _, item_slug = name.partition("/")
    drills = Item.objects.filter(kind=Item.Kind.DRILL, version__exam__current_version=F("version"))
    item = drills.filter(version__exam__slug=exam_slug, slug=item_slug).first()
    if item is None:
        known = ", ".join(f"{exam}/{slug}" for exam, slug in drills.values_list("version__exam__slug", "slug"))
        raise SystemExit(f"no drill {name!r}; the imported drills are: {known}")
    return item


def bench_attempt(item: Item) -> Attempt:
    """A fresh practice attempt of the bench user; earlier runs' rows go."""
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    Attempt.objects.filter(user=user).delete()
    attempt, _ = Attempt.start(user, Exam.objects.get(pk=item.version.exam_id), Attempt.Mode.PRACTICE)
    return attempt


@contextlib.contextmanager
def celery_worker(log_path: Path) -> Iterator[subprocess.Popen]:
    celery = Path(sys.executable).with_name("celery")
    argv = [str(celery), "-A", "examsite", "worker", "-Q", "grading,regrade", "-n", WORKER_NAME]
    argv += ["--concurrency", "2", "--pool", "prefork", "-l", "warning"]
    with open(log_path, "wb") as log:
        # Its own session (and process group), so stopping it takes the pool too.
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_ready(proc, log_path)
        yield proc
    finally:
        stop(proc)


def wait_until_ready(proc: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            raise CannotRun(f"the worker exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        if any(name.startswith("bench-throughput@") for reply in app.control.ping(timeout=1.0) for name in reply):
            return
    raise CannotRun(f"the worker did not answer a ping within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown: running tasks finish first
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def ceiling(name: str, item: Item, code: str, n: int, worker_pid: int | None) -> Phase:
    """grade() back to back in two threads: what two pool processes' sandboxes
    could do with no broker, no task and no stored result."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for number in range(n):
        todo.put(number)
    latencies: list[float] = []
    failures: list[int] = []

    def work() -> None:
        try:
            while True:
                try:
                    todo.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                result = grader.grade(item, code)
                latencies.append(time.perf_counter() - started)
                if result.status != "graded" or result.passed != result.total:
                    failures.append(1)
        finally:
            connection.close()  # the thread's own

    threads = [threading.Thread(target=work) for _ in range(2)]
    before, started = cpu_now(worker_pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Phase(name, len(latencies), elapsed, latencies, [], len(failures), cpu_now(worker_pid) - before)


def submit(attempt: Attempt, item: Item, code: str) -> int:
    submission = Submission.objects.create(attempt=attempt, item=item, code=code, max_score=item.points)
    enqueue(submission)  # sent when the enclosing transaction commits
    return submission.pk


def wait_for(pks: list[int]) -> None:
    """Until every submission is finished, or none has finished for STALL_SECONDS."""
    done, last_change = -1, time.monotonic()
    while True:
        finished = Submission.objects.filter(pk__in=pks, status__in=FINISHED).count()
        if finished == len(pks):
            return
        if finished != done:
            done, last_change = finished, time.monotonic()
        elif time.monotonic() - last_change > STALL_SECONDS:
            print(f"  gave up: {len(pks) - finished} of {len(pks)} pending, none finished in {STALL_SECONDS:.0f} s")
            return
        time.sleep(0.25)  # the latencies come from the rows, not from this loop


def measured(name: str, pks: list[int], cpu: Cpu) -> Phase:
    fields = ("status", "passed", "total", "created_at", "started_at", "finished_at")
    rows = list(Submission.objects.filter(pk__in=pks).values(*fields))
    finished = [row for row in rows if row["finished_at"] is not None]
    latencies = [(row["finished_at"] - row["created_at"]).total_seconds() for row in finished]
    runs = [(row["finished_at"] - row["started_at"]).total_seconds() for row in finished if row["started_at"]]
    graded = Submission.Status.GRADED
    failures = sum(1 for row in rows if row["status"] != graded or not row["total"] or row["passed"] != row["total"])
    first = min(row["created_at"] for row in rows)
    last = max((row["finished_at"] for row in finished), default=first)
    return Phase(name, len(finished), (last - first).total_seconds(), latencies, runs, failures, cpu)


def all_at_once(attempt: Attempt, item: Item, code: str, n: int, worker_pid: int) -> Phase:
    before = cpu_now(worker_pid)
    with transaction.atomic():
        pks = [submit(attempt, item, code) for _ in range(n)]
    wait_for(pks)
    return measured("end to end, all at once", pks, cpu_now(worker_pid) - before)


def paced(attempt: Attempt, item: Item, code: str, n: int, rate: float, worker_pid: int) -> Phase:
    before = cpu_now(worker_pid)
    started = time.monotonic()
    pks = []
    for number in range(n):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            pks.append(submit(attempt, item, code))
    wait_for(pks)
    return measured(f"end to end, arrivals {rate:.1f}/s", pks, cpu_now(worker_pid) - before)


def warm_up(attempt: Attempt, item: Item, code: str) -> None:
    """Both pool processes import, connect and build the seccomp filter once."""
    with transaction.atomic():
        pks = [submit(attempt, item, code) for _ in range(4)]
    wait_for(pks)


def row(cells: list[str]) -> str:
    widths = [32, 7, 6, 6, 6, 6, 7, 6, 6, 7, 6]
    return "  ".join(
        f"{text:<{width}}" if i == 0 else f"{text:>{width}}"
        for i, (text, width) in enumerate(zip(cells, widths, strict=True))
    )


def report(phases: list[Phase], n: int) -> None:
    print(
        row(
            ["phase", "done", "rate/s", "p50 ms", "p95 ms", "max ms", "run p50", "cpu ms", "pg ms", "machine", "others"]
        )
    )
    for phase in phases:
        ms = [value * 1000 for value in phase.latencies]
        cpu, count = phase.cpu, max(1, phase.count)
        cells = [
            phase.name,
            f"{phase.count}/{n}",
            f"{phase.rate:.2f}",
            f"{statistics.median(ms):.0f}",
            f"{percentile(ms, 95):.0f}",
            f"{max(ms):.0f}",
            f"{statistics.median(phase.run_seconds) * 1000:.0f}" if phase.run_seconds else "-",
            f"{cpu.ours / count * 1000:.0f}",
            f"{cpu.postgres / count * 1000:.1f}",
            f"{cpu.busy / cpu.capacity:.0%}",
            f"{(cpu.busy - cpu.ours - cpu.postgres) / cpu.capacity:.0%}",
        ]
        print(row(cells))
        if phase.failures:
            print(f"  {phase.failures} of them not graded with every case passed")
    top, burst, half, again = phases
    print(
        f"end to end (all at once) / ceiling: {burst.rate / top.rate:.2f} "
        f"(/ the ceiling after: {burst.rate / again.rate:.2f}); target at least 0.70"
    )
    half_p95 = percentile(half.latencies, 95) * 1000
    print(f"p95 submit -> stored at half the ceiling rate: {half_p95:.0f} ms; target under 1000 ms")
    print("latency: submit -> stored (ceiling: one grade() call). run p50: claim -> stored, in the worker.")
    print("cpu ms: per grading, this process + the worker + the sandboxes; pg ms: the bench database's backends.")
    print(
        "machine: the whole machine's busy share; others: the part neither ours nor our backends' (Redis, other work)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="gradings per phase (default 60)")
    parser.add_argument(
        "--drill", default="serving-reliability/peak-streams", help="exam/drill whose reference solution is graded"
    )
    args = parser.parse_args()
    try:
        runner.check_available()
        prepare_database()
        prepare_redis()
    except (CannotRun, runner.SandboxUnavailable) as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return 2
    item = find_drill(args.drill)
    code = item.reference_solution
    attempt = bench_attempt(item)
    print(
        f"drill {args.drill} ({item.cases.count()} cases, 2 sandbox runs a grading), {args.n} gradings a phase, "
        f"{os.cpu_count()} cpus; worker: prefork, concurrency 2; database {BENCH_DB}, broker {REDIS_URL}"
    )
    grader.grade(item, code)  # warm-up: the seccomp program is built once per process
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        log_path = Path(scratch) / "worker.log"
        try:
            with celery_worker(log_path) as worker:
                # The idle worker is up during the ceiling too, as it would be in production.
                top = ceiling("ceiling: grade() x 2 threads", item, code, args.n, worker.pid)
                warm_up(attempt, item, code)
                burst = all_at_once(attempt, item, code, args.n, worker.pid)
                half = paced(attempt, item, code, args.n, top.rate / 2, worker.pid)
                again = ceiling("ceiling again, after", item, code, args.n, worker.pid)
        except CannotRun as exc:
            print(f"cannot run: {exc}", file=sys.stderr)
            return 2
        problems = [
            line
            for line in log_path.read_text().splitlines()
            if any(w in line for w in ("WARNING", "ERROR", "CRITICAL"))
        ]
    report([top, burst, half, again], args.n)
    if problems:
        print("worker log, warnings and errors:")
        print("\n".join("  " + line for line in problems[-20:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
