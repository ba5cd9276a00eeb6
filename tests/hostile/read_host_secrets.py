"""Returns what it managed to read, so a test can check it is nothing secret."""

import os

TARGETS = [
    "/work/main/examsite/settings.py",
    "/work/main/var/db.sqlite3",
    "/etc/shadow",
    "/etc/passwd",
    "/root/.bash_history",
    "/proc/1/root/etc/shadow",
]


def add(a, b):
    found = {}
    for path in TARGETS:
        try:
            with open(path, "rb") as handle:
                found[path] = len(handle.read())
        except OSError:
            pass
    found["environ"] = dict(os.environ)
    with open("/proc/1/environ", "rb") as handle:
        found["/proc/1/environ"] = handle.read().decode()
    return found
