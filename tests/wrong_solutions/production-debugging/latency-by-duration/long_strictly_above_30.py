# Misreading: "long" starts above 30 s, so exactly 30 s stays medium.
# caught by: bucket boundaries


def latency_by_duration(records):
    sums = {"short": 0.0, "medium": 0.0, "long": 0.0}
    counts = {"short": 0, "medium": 0, "long": 0}
    for record in records:
        seconds = record["audio_seconds"]
        name = "short" if seconds < 5 else "long" if seconds > 30 else "medium"
        sums[name] += record["latency_ms"]
        counts[name] += 1
    return {name: (sums[name] / counts[name] if counts[name] else None) for name in sums}
