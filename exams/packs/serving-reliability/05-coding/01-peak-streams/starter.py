def peak_concurrent_streams(intervals):
    """Return the largest number of streams active at the same moment.

    intervals: list of [start_ms, end_ms] pairs (ints, start_ms <= end_ms),
    in any order. A stream is active on [start_ms, end_ms): one that ends at
    t does not overlap one that starts at t. Returns 0 for an empty list.
    """
    raise NotImplementedError
