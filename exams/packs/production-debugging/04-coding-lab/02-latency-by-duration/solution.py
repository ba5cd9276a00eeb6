BUCKET_ORDER = ("short", "medium", "long")
SHORT_BELOW = 5
MEDIUM_BELOW = 30


def _bucket_name(seconds):
    if seconds < SHORT_BELOW:
        return "short"
    if seconds < MEDIUM_BELOW:
        return "medium"
    return "long"


def latency_by_duration(records):
    """Mean latency per audio-duration bucket; None for an empty bucket."""
    totals = dict.fromkeys(BUCKET_ORDER, 0)
    counts = dict.fromkeys(BUCKET_ORDER, 0)
    for record in records:
        name = _bucket_name(record["audio_seconds"])
        totals[name] += record["latency_ms"]
        counts[name] += 1
    result = {}
    for name in BUCKET_ORDER:
        result[name] = totals[name] / counts[name] if counts[name] else None
    return result
