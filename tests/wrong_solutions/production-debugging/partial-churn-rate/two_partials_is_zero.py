# Misreading: "fewer than two" read as "two or fewer", so a single pair is 0.0.
# caught by: all different
from itertools import pairwise


def partial_churn_rate(partials):
    if len(partials) <= 2:
        return 0.0
    return sum(a != b for a, b in pairwise(partials)) / (len(partials) - 1)
