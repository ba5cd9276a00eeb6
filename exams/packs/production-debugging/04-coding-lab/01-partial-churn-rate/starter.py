def partial_churn_rate(partials):
    """Fraction of adjacent interim hypotheses whose text differs.

    partials: list of str, interim ASR hypotheses in arrival order.

    Returns 0.0 when there are fewer than two partials. Otherwise returns
    (number of adjacent pairs that are not exactly equal) / (len(partials) - 1)
    as a float.
    """
    raise NotImplementedError
