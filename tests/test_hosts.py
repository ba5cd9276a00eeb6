"""Several hosts: the web tier and a Celery worker each in a network namespace
of its own (tests/hosts_support.py), reaching PostgreSQL and Redis, which run
in the machine's namespace, only over a virtual link. A run made on the web
host is graded by the worker host, once; and a worker drained as an upgrade
drains it (docs/operations.md) loses neither the run it holds nor those queued.

Needs root (to make namespaces and veths) and `ip`; skipped with the reason
elsewhere, or where the kernel or the container refuses network namespaces.
The services are the fault tests' own (tests/fault_support.py), listening on
the links' addresses as well as on loopback (where the test reads them).
"""

import os
import re
import signal

import pytest
import redis

from tests.conftest import need_service
from tests.fault_support import Browser, Site, private_site, wait_until
from tests.hosts_support import Host, NetworkUnavailable, VirtualNetwork, ip_problem, namespace_of

RIGHT = "def add(a, b):\n    return a + b\n"
# Slow to load, so that a worker can be told to stop while it grades it.
SLOW = "import time\ntime.sleep(2)\n\ndef add(a, b):\n    return a + b\n"
PASSWORD = "hosts-tests-pw"
CANDIDATES = ("graded-remotely", "running-at-upgrade", "queued-at-upgrade")

SETUP = f"""
import json
from django.contrib.auth import get_user_model
from exams.models import Attempt, Exam
out = {{}}
for name in {CANDIDATES!r}:
    user = get_user_model().objects.create_user(name, password={PASSWORD!r})
    attempt, _ = Attempt.start(user, Exam.objects.get(slug="mini-exam"), Attempt.Mode.PRACTICE)
    items = {{i.slug: i.pk for i in attempt.version.items.all()}}
    out[name] = {{"attempt": attempt.pk, "drill": items["add"]}}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def network():
    if os.geteuid() != 0:
        pytest.skip("making network namespaces and veth pairs needs root")
    problem = ip_problem()
    need_service("iproute2", not problem, problem)
    try:
        network = VirtualNetwork(("web", "wrk"))
    except NetworkUnavailable as exc:
        pytest.skip(f"network namespaces are unusable here: {exc}")
    try:
        yield network
    finally:
        network.remove()


@pytest.fixture(scope="module")
def stack(network, tmp_path_factory):
    """PostgreSQL and Redis in the root namespace, listening on loopback and
    on the links; the site's database migrated, attempts started, gunicorn
    on the web host. Every process is stopped before the network goes."""
    listen = ("127.0.0.1", *network.gateways)
    with private_site(tmp_path_factory.mktemp("hosts"), SETUP, listen, trusted=network.subnet) as site:
        web = network.hosts["web"]
        site.web_host = web.address
        site.start_web(wrap=web.wrap, ALLOWED_HOSTS=web.address, **services_seen_from(web, site))
        yield site, web, network.hosts["wrk"]


def services_seen_from(host: Host, site: Site) -> dict[str, str]:
    """The URLs a host's processes get: the services at its link's root end."""
    return {
        "DATABASE_URL": f"postgres://postgres@{host.gateway}:{site.pg.port}/examsite",
        "REDIS_URL": f"redis://{host.gateway}:{site.redis.port}/0",
    }


@pytest.fixture
def hosts(stack):
    """The stack with no worker, whatever a test left."""
    yield stack
    stack[0].stop_workers()


def start_worker(site: Site, host: Host, name: str):
    return site.start_worker(name, wrap=host.wrap, host=host.name, **services_seen_from(host, site))


def logged_in(site: Site, name: str) -> Browser:
    """`name`'s browser, logged in on the web host from the machine, over the web host's link."""
    browser = Browser(site.base_url)
    browser.log_in(name, PASSWORD)
    return browser


def run_tests(site: Site, name: str, code: str, browser: Browser | None = None) -> dict:
    """Press Run tests on `name`'s drill."""
    browser = browser or logged_in(site, name)
    ids = site.people[name]
    run = f"/attempts/{ids['attempt']}/items/{ids['drill']}/run/"
    status, body, _ = browser.post(run, {"part": "code", "content": code, "revision": 0}, htmx=True)
    assert status == 200, body[:2000]
    return ids


def submission(site: Site, ids: dict) -> tuple:
    [row] = site.pg.query(
        "SELECT status, claims, passed, total FROM grading_submission WHERE attempt_id = %s", (ids["attempt"],)
    )
    return row


def gradings_in_worker_log(site: Site) -> int:
    log = site.log_tail("worker.log", 100_000)
    return len(re.findall(r"Task grading\.grade_submission\[[0-9a-f-]+\] succeeded", log))


def wait_graded(site: Site, ids: dict, what: str) -> None:
    wait_until(lambda: submission(site, ids)[0] == "graded", 40, what, site.logs / "worker.log")


def test_a_run_made_on_the_web_host_is_graded_once_by_the_worker_host(hosts):
    site, web, worker_host = hosts
    pg_port, redis_port = site.pg.port, site.redis.port
    # The worker host reaches the services over its link, and nothing else:
    # not the machine's loopback (its own has nothing on those ports), not
    # the web host's link.
    assert worker_host.connects(
        (worker_host.gateway, pg_port),
        (worker_host.gateway, redis_port),
        ("127.0.0.1", pg_port),
        ("127.0.0.1", redis_port),
        (web.gateway, redis_port),
        (web.address, redis_port),
    ) == {
        f"{worker_host.gateway}:{pg_port}": "ok",
        f"{worker_host.gateway}:{redis_port}": "ok",
        f"127.0.0.1:{pg_port}": "ConnectionRefusedError",
        f"127.0.0.1:{redis_port}": "ConnectionRefusedError",
        f"{web.gateway}:{redis_port}": "OSError",  # ENETUNREACH: no route
        f"{web.address}:{redis_port}": "OSError",
    }

    worker = start_worker(site, worker_host, "grader")
    assert namespace_of(site.web.pid) == web.name
    assert namespace_of(worker.pid) == worker_host.name

    ids = run_tests(site, "graded-remotely", RIGHT)
    wait_graded(site, ids, "the worker host to grade the run")
    assert submission(site, ids) == ("graded", 1, 3, 3)

    # Graded by the one worker there is, in the worker host's namespace, once.
    log = site.log_tail("worker.log", 10_000)
    assert f"grader@{worker_host.name} ready" in log
    assert gradings_in_worker_log(site) == 1
    # Each host's connections came from its own address on its link.
    connections = re.findall(r"connection received: host=([0-9.]+)", site.pg.log.read_text(errors="replace"))
    assert {web.address, worker_host.address} <= set(connections)
    redis_clients = redis.Redis.from_url(site.redis.url()).client_list()
    assert worker_host.address in {client["addr"].rsplit(":", 1)[0] for client in redis_clients}


def test_an_upgrade_drains_a_worker_without_losing_the_run_it_holds_or_those_queued(hosts):
    """docs/operations.md, "Upgrading without losing queued work": the old
    worker stops taking messages (cancel_consumer), finishes its run, stops
    warmly (SIGTERM to its main process); the new one takes what waited."""
    site, _, worker_host = hosts
    gradings_before = gradings_in_worker_log(site)
    old = start_worker(site, worker_host, "v1")
    node = f"v1@{worker_host.name}"
    # Logged in beforehand: the drain below must begin while the slow run runs.
    second = logged_in(site, "queued-at-upgrade")
    running = run_tests(site, "running-at-upgrade", SLOW)
    wait_until(lambda: submission(site, running)[0] == "running", 20, "the old worker to take the run")
    for queue in ("grading", "regrade"):
        [reply] = site.control.control.cancel_consumer(queue, destination=[node], reply=True, timeout=5)
        assert "ok" in reply[node], reply
    queued = run_tests(site, "queued-at-upgrade", RIGHT, second)

    assert submission(site, running)[0] == "running"
    os.kill(old.pid, signal.SIGTERM)  # the main process only: its pool finishes the run
    assert old.wait(timeout=30) == 0, site.log_tail("worker.log")
    assert submission(site, running) == ("graded", 1, 3, 3)
    assert submission(site, queued)[:2] == ("queued", 0)  # not taken by the draining worker

    start_worker(site, worker_host, "v2")
    wait_graded(site, queued, "the new worker to grade the run queued during the upgrade")
    assert submission(site, queued) == ("graded", 1, 3, 3)  # from its first message: no sweep ran
    assert gradings_in_worker_log(site) == gradings_before + 2
