# Misreading: a stream ending at t still overlaps one starting at t
# (starts applied before ends at equal timestamps).
# caught by: touching intervals


def peak_concurrent_streams(intervals):
    # (time, order, change): order 0 puts the starts first at a shared time
    timeline = sorted([(s, 0, 1) for s, _ in intervals] + [(e, 1, -1) for _, e in intervals])
    running = best = 0
    for *_, change in timeline:
        running += change
        best = max(best, running)
    return best
