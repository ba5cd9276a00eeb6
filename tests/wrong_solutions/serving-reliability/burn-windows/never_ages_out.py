# Misreading: the sums keep growing; the point leaving the window is never removed.
# caught by: errors age out


def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    bad = total = 0
    for i, point in enumerate(points):
        bad += point["bad"]
        total += point["total"]
        if i + 1 >= window_size and total and bad / total > budget_rate:
            alerts.append({"ending_minute": point["minute"], "error_rate": bad / total, "window_size": window_size})
    return alerts
