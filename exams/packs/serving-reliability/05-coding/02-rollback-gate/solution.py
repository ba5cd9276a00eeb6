WER_SLACK = 0.015
P95_SLACK_MS = 250
COST_RATIO_LIMIT = 1.2
COST_FLOOR = 0.01


def _failed_checks(before, after):
    """Names of the checks the canary fails for one slice, in fixed order."""
    checks = (
        ("quality", after["wer"] - before["wer"] > WER_SLACK),
        ("latency", after["p95_ms"] - before["p95_ms"] > P95_SLACK_MS),
        (
            "cost",
            after["cost_per_min"] / max(before["cost_per_min"], COST_FLOOR)
            > COST_RATIO_LIMIT,
        ),
    )
    return [label for label, failed in checks if failed]


def rollback_blockers(old, new, min_calls=200):
    """Reference solution: per-slice gate with a minimum sample rule."""
    eligible = (
        (name, old[name], metrics)
        for name, metrics in new.items()
        if name in old and metrics["calls"] >= min_calls
    )
    verdicts = ((name, _failed_checks(before, after)) for name, before, after in eligible)
    return [{"slice": name, "reasons": failed} for name, failed in verdicts if failed]
