# Misreading: every partial compared with the first one, not with the one before it.
# caught by: alternating back and forth


def partial_churn_rate(partials):
    if len(partials) < 2:
        return 0.0
    first = partials[0]
    return sum(1 for text in partials[1:] if text != first) / (len(partials) - 1)
