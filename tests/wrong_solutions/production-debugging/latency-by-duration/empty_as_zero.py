# Misreading: an empty bucket reported as 0.0.
# caught by: missing buckets return None


def latency_by_duration(records):
    groups = {"short": [], "medium": [], "long": []}
    for record in records:
        seconds = record["audio_seconds"]
        name = "short" if seconds < 5 else "medium" if seconds < 30 else "long"
        groups[name].append(record["latency_ms"])
    return {name: (sum(v) / len(v) if v else 0.0) for name, v in groups.items()}
