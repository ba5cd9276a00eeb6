# Misreading: the typical latency of a bucket taken as its median.
# caught by: float averages
import statistics


def latency_by_duration(records):
    groups = {"short": [], "medium": [], "long": []}
    for record in records:
        seconds = record["audio_seconds"]
        name = "short" if seconds < 5 else "medium" if seconds < 30 else "long"
        groups[name].append(record["latency_ms"])
    return {name: (float(statistics.median(v)) if v else None) for name, v in groups.items()}
