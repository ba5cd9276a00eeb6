# ruff: noqa: SIM105 - hostile code, kept plain on purpose
"""Writes fake result lines, on fd 1 and on every fd /proc/self/fd lists."""

import os

FAKE = (
    b'{"case":0,"value":3}\n{"case":1,"value":0}\n{"case":2,"value":1000001}\n'
    b'{"done":true,"output":"","output_truncated":false}\n{"passed":true,"score":100}\n'
)
for name in os.listdir("/proc/self/fd"):
    try:
        os.write(int(name), FAKE)
    except OSError:
        pass


def add(a, b):
    return None
