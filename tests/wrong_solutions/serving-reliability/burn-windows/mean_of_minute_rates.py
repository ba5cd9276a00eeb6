# Misreading: the window's rate is the mean of the per-minute rates, not pooled.
# caught by: pooled rate


def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    for end in range(window_size - 1, len(points)):
        window = [p for p in points[end - window_size + 1 : end + 1] if p["total"]]
        if not window:
            continue
        rate = sum(p["bad"] / p["total"] for p in window) / len(window)
        if rate > budget_rate:
            alerts.append({"ending_minute": points[end]["minute"], "error_rate": rate, "window_size": window_size})
    return alerts
