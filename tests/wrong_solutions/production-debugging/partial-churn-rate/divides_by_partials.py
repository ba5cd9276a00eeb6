# Misreading: the rate divided by the number of partials, not of adjacent pairs.
# caught by: all different


def partial_churn_rate(partials):
    if len(partials) < 2:
        return 0.0
    changes = sum(1 for i in range(1, len(partials)) if partials[i] != partials[i - 1])
    return changes / len(partials)
