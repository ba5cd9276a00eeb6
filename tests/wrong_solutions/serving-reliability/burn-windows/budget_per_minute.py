# caught by: single bad spike
# Misreading: a window alerts when any one of its minutes is over the budget.


def burn_windows(points, window_size=5, budget_rate=0.01):
    found = []
    for last in range(window_size, len(points) + 1):
        window = points[last - window_size : last]
        requests = sum(p["total"] for p in window)
        over = any(p["total"] and p["bad"] / p["total"] > budget_rate for p in window)
        if requests and over:
            rate = sum(p["bad"] for p in window) / requests
            found.append(dict(ending_minute=window[-1]["minute"], error_rate=rate, window_size=window_size))
    return found
