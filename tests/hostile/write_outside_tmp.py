"""Returns the paths it managed to write, so a test can check only /tmp is writable."""

PATHS = ["/pwned", "/usr/pwned", "/sandbox/harness.py", "/sandbox/pwned", "/dev/pwned", "/dev/shm/pwned", "/tmp/ok"]


def add(a, b):
    written = []
    for path in PATHS:
        try:
            with open(path, "a") as handle:
                handle.write("pwned")
            written.append(path)
        except OSError:
            pass
    return written
