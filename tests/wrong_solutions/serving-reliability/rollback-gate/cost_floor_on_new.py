# Misreading: the floor put on the new cost (the numerator), with a guard
# against dividing by zero instead of the floor on the old cost.
# caught by: zero old cost


def rollback_blockers(old, new, min_calls=200):
    out = []
    for name, after in new.items():
        if name not in old or after["calls"] < min_calls:
            continue
        before = old[name]
        reasons = []
        if after["wer"] - before["wer"] > 0.015:
            reasons.append("quality")
        if after["p95_ms"] - before["p95_ms"] > 250:
            reasons.append("latency")
        numerator = max(after["cost_per_min"], 0.01)
        if before["cost_per_min"] == 0 or numerator / before["cost_per_min"] > 1.2:
            reasons.append("cost")
        if reasons:
            out.append({"slice": name, "reasons": reasons})
    return out
