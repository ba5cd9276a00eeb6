# ruff: noqa: SIM105 - hostile code, kept plain on purpose
import signal
import time


def add(a, b):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # no per-case timer: only the wall clock can stop it
    while True:
        try:
            time.sleep(60)
        except BaseException:  # noqa: S110 - swallows any timeout on purpose
            pass
