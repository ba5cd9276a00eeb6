def latency_by_duration(records):
    """Mean latency per audio-duration bucket.

    records: list of dicts with "audio_seconds" and "latency_ms" (numbers).

    Buckets by audio_seconds: "short" below 5, "medium" from 5 up to but not
    including 30, "long" from 30 up. Returns
    {"short": mean or None, "medium": mean or None, "long": mean or None},
    where None means the bucket has no records.
    """
    raise NotImplementedError
