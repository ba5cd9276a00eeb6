# Misreading: the alert names the list index of the window's last point, not its minute label.
# caught by: minute labels


def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    for end in range(window_size - 1, len(points)):
        window = points[end - window_size + 1 : end + 1]
        total = sum(p["total"] for p in window)
        if total and sum(p["bad"] for p in window) / total > budget_rate:
            rate = sum(p["bad"] for p in window) / total
            alerts.append({"ending_minute": end, "error_rate": rate, "window_size": window_size})
    return alerts
