def peak_concurrent_streams(intervals):
    """Reference solution: two sorted pointer lists instead of an event list."""
    opens = sorted(pair[0] for pair in intervals)
    closes = sorted(pair[1] for pair in intervals)

    live = 0
    highest = 0
    closed = 0
    for opened_at in opens:
        # Retire every stream that has finished by this start; a close at
        # the same millisecond happens first, so touching calls never overlap.
        while closed < len(closes) and closes[closed] <= opened_at:
            closed += 1
            live -= 1
        live += 1
        if live > highest:
            highest = live
    return highest
