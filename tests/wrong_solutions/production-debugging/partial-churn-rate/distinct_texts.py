# Misreading: churn counted as the number of distinct texts seen after the first.
# caught by: alternating back and forth


def partial_churn_rate(partials):
    if len(partials) < 2:
        return 0.0
    return (len(set(partials)) - 1) / (len(partials) - 1)
