# Right answers, O(n^2) time: for every start, count the streams live then.
# caught by: scale


def peak_concurrent_streams(intervals):
    peak = 0
    for t, _ in intervals:
        live = sum(1 for start, end in intervals if start <= t < end)
        peak = max(peak, live)
    return peak
