# Misreading: the WER slack of 0.015 taken as a relative rise (1.5 % of the old WER).
# caught by: wer baselines


def rollback_blockers(old, new, min_calls=200):
    found = []
    for name, after in new.items():
        if name not in old or after["calls"] < min_calls:
            continue
        before = old[name]
        reasons = []
        if before["wer"] > 0:
            worse_quality = (after["wer"] - before["wer"]) / before["wer"] > 0.015
        else:
            worse_quality = after["wer"] > 0.015
        if worse_quality:
            reasons.append("quality")
        if after["p95_ms"] - before["p95_ms"] > 250:
            reasons.append("latency")
        if after["cost_per_min"] / max(before["cost_per_min"], 0.01) > 1.2:
            reasons.append("cost")
        if reasons:
            found.append({"slice": name, "reasons": reasons})
    return found
