import sys

sys.setrecursionlimit(10**7)


def dive(n):
    return dive(n + 1) + 1


def add(a, b):
    return dive(0)
