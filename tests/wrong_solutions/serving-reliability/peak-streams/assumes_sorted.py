# Misreading: the intervals arrive sorted by start, so a heap of ends suffices.
# caught by: unsorted input
import heapq


def peak_concurrent_streams(intervals):
    ends = []
    peak = 0
    for start, end in intervals:
        while ends and ends[0] <= start:
            heapq.heappop(ends)
        if end > start:
            heapq.heappush(ends, end)
        peak = max(peak, len(ends))
    return peak
