# Misreading: a window exactly at the budget alerts (>= instead of >).
# caught by: exactly at budget


def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    bad = total = 0
    for i, point in enumerate(points):
        bad += point["bad"]
        total += point["total"]
        if i >= window_size:
            bad -= points[i - window_size]["bad"]
            total -= points[i - window_size]["total"]
        if i + 1 >= window_size and total and bad / total >= budget_rate:
            alerts.append({"ending_minute": point["minute"], "error_rate": bad / total, "window_size": window_size})
    return alerts
