# Misreading: bucket upper bounds inclusive (5 s is short, 30 s is medium).
# caught by: bucket boundaries


def latency_by_duration(records):
    groups = {"short": [], "medium": [], "long": []}
    for record in records:
        seconds = record["audio_seconds"]
        if seconds <= 5:
            groups["short"].append(record["latency_ms"])
        elif seconds <= 30:
            groups["medium"].append(record["latency_ms"])
        else:
            groups["long"].append(record["latency_ms"])
    return {name: (sum(v) / len(v) if v else None) for name, v in groups.items()}
