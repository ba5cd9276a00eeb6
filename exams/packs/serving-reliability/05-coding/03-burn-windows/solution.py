from collections import deque


def burn_windows(points, window_size=5, budget_rate=0.01):
    """Reference solution: a deque holds exactly the points in the window."""
    if window_size < 1:
        return []

    window = deque()
    bad_sum = 0
    total_sum = 0
    alerts = []
    for current in points:
        window.append(current)
        bad_sum += current["bad"]
        total_sum += current["total"]
        if len(window) > window_size:
            leaving = window.popleft()
            bad_sum -= leaving["bad"]
            total_sum -= leaving["total"]
        if len(window) < window_size or total_sum == 0:
            continue
        observed = bad_sum / total_sum
        if observed <= budget_rate:
            continue
        alerts.append(
            {
                "ending_minute": current["minute"],
                "error_rate": observed,
                "window_size": window_size,
            }
        )
    return alerts
