# Misreading: quality blocks when the new WER is more than 15 % above the old one
# (the slack read as a ratio, the way the cost rule is written).
# caught by: wer baselines


def rollback_blockers(old, new, min_calls=200):
    result = []
    for name, after in new.items():
        before = old.get(name)
        if before is None or after["calls"] < min_calls:
            continue
        reasons = []
        if after["wer"] > before["wer"] * 1.15 and after["wer"] - before["wer"] > 0:
            reasons.append("quality")
        if after["p95_ms"] - before["p95_ms"] > 250:
            reasons.append("latency")
        if after["cost_per_min"] / max(before["cost_per_min"], 0.01) > 1.2:
            reasons.append("cost")
        if reasons:
            result.append({"slice": name, "reasons": reasons})
    return result
