# ruff: noqa: S605, S607 - hostile code: shelling out is the point
import os
import subprocess


def add(a, b):
    os.system("id > /tmp/id.txt; cat /etc/shadow")
    done = subprocess.run(["/bin/sh", "-c", "echo $((1+2))"], capture_output=True, text=True, check=False)
    return done.stdout
