# Right answers, O(n * live) time: a plain list of live ends, filtered at every start.
# caught by: scale


def peak_concurrent_streams(intervals):
    live = []
    peak = 0
    for start, end in sorted(intervals):
        live = [e for e in live if e > start]
        if end > start:
            live.append(end)
        peak = max(peak, len(live))
    return peak
