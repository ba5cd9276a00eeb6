# Misreading: minutes without traffic are dropped before windowing, so a
# window spans window_size minutes that had traffic.
# caught by: zero traffic


def burn_windows(points, window_size=5, budget_rate=0.01):
    busy = [p for p in points if p["total"]]
    alerts = []
    for end in range(window_size - 1, len(busy)):
        window = busy[end - window_size + 1 : end + 1]
        rate = sum(p["bad"] for p in window) / sum(p["total"] for p in window)
        if rate > budget_rate:
            alerts.append({"ending_minute": busy[end]["minute"], "error_rate": rate, "window_size": window_size})
    return alerts
