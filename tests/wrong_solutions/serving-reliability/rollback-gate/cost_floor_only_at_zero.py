# Misreading: the 0.01 cost floor used only when the old cost is exactly zero,
# so a tiny non-zero old cost still inflates the ratio.
# caught by: cost floor


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
        base_cost = before["cost_per_min"] if before["cost_per_min"] != 0 else 0.01
        if after["cost_per_min"] / base_cost > 1.2:
            reasons.append("cost")
        if reasons:
            out.append({"slice": name, "reasons": reasons})
    return out
