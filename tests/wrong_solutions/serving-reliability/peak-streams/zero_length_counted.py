# Misreading: a stream whose start equals its end is live for that instant.
# caught by: zero-length calls


def peak_concurrent_streams(intervals):
    points = sorted({t for pair in intervals for t in pair})
    peak = 0
    for t in points:
        live = sum(1 for start, end in intervals if start <= t < end or start == end == t)
        peak = max(peak, live)
    return peak
