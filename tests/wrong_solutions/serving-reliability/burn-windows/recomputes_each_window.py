# Right answers, O(n * window_size) time: every window summed from scratch.
# caught by: scale


def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    for end in range(window_size - 1, len(points)):
        window = points[end - window_size + 1 : end + 1]
        total = sum(p["total"] for p in window)
        if not total:
            continue
        rate = sum(p["bad"] for p in window) / total
        if rate > budget_rate:
            alerts.append({"ending_minute": points[end]["minute"], "error_rate": rate, "window_size": window_size})
    return alerts
