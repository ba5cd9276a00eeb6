# Misreading: durations rounded to whole seconds before bucketing.
# caught by: fractional durations


def latency_by_duration(records):
    groups = {"short": [], "medium": [], "long": []}
    for record in records:
        seconds = round(record["audio_seconds"])
        name = "short" if seconds < 5 else "medium" if seconds < 30 else "long"
        groups[name].append(record["latency_ms"])
    return {name: (sum(v) / len(v) if v else None) for name, v in groups.items()}
