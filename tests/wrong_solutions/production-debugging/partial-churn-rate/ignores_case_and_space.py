# Misreading: case and surrounding whitespace edits are not rewrites.
# caught by: case and whitespace changes
from itertools import pairwise


def partial_churn_rate(partials):
    if len(partials) < 2:
        return 0.0
    norm = [p.strip().lower() for p in partials]
    return sum(a != b for a, b in pairwise(norm)) / (len(norm) - 1)
