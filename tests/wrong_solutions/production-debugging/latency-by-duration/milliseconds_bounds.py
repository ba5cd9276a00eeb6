# Misreading: the bounds read as milliseconds of audio (5000 and 30000).
# caught by: one bucket only


def latency_by_duration(records):
    groups = {"short": [], "medium": [], "long": []}
    for record in records:
        seconds = record["audio_seconds"]
        name = "short" if seconds < 5000 else "medium" if seconds < 30000 else "long"
        groups[name].append(record["latency_ms"])
    return {name: (sum(v) / len(v) if v else None) for name, v in groups.items()}
