def burn_windows(points, window_size=5, budget_rate=0.01):
    """Flag windows whose error rate exceeds the SLO budget.

    points: list of {"minute": int, "bad": int, "total": int} in time order.
    Consider every run of exactly `window_size` consecutive points (full
    windows only). Skip a window whose total is 0. Alert when
    sum(bad) / sum(total) > budget_rate.

    Returns a list of {"ending_minute": minute of the last point,
    "error_rate": rate, "window_size": window_size}, in time order.
    """
    raise NotImplementedError
