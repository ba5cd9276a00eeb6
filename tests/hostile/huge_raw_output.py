import os


def add(a, b):
    chunk = b"y" * 65536
    while True:
        os.write(1, chunk)
