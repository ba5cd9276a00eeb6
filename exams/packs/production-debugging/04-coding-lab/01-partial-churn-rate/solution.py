def partial_churn_rate(partials):
    """Fraction of adjacent interim hypotheses whose text differs."""
    pair_count = len(partials) - 1
    if pair_count <= 0:
        return 0.0
    rewrites = sum(
        1 for earlier, later in zip(partials[:-1], partials[1:]) if earlier != later
    )
    return float(rewrites) / pair_count
