def rollback_blockers(old, new, min_calls=200):
    """Return the canary slices that block promotion.

    old, new: dicts mapping slice name -> {"calls", "wer", "p95_ms",
    "cost_per_min"}. Visit slices in the order of `new`; skip a slice that
    is missing from `old` or has fewer than `min_calls` calls in `new`.
    A slice fails on "quality" if the WER rises by more than 0.015, on
    "latency" if p95_ms rises by more than 250, and on "cost" if
    new cost / max(old cost, 0.01) exceeds 1.2.

    Returns a list of {"slice": name, "reasons": [...]} for slices with at
    least one failure, reasons ordered "quality", "latency", "cost".
    """
    raise NotImplementedError
