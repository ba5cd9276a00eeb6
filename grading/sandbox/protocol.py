"""Both ends of the harness protocol that live outside the sandbox."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS_PATH = Path(__file__).with_name("harness.py")


@dataclass
class CaseOutcome:
    """What one case produced: a value, or the reason it produced none."""

    value: Any = None
    error: str = ""  # exception type name, "TimeLimit", "NotSerializable", "Crashed"
    message: str = ""
    ms: float = 0.0
    # The slice of HarnessResult.output this case printed, if the harness said.
    output_span: tuple[int, int] | None = None
    output_over: bool = False  # the case printed past the output limit
    trace: list[tuple[int, str]] = field(default_factory=list)  # (line, function) in the program's code

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class HarnessResult:
    outcomes: list[CaseOutcome]
    load_error: str = ""
    message: str = ""
    output: str = ""
    output_truncated: bool = False  # more was printed than the harness kept
    load_output_over: bool = False  # loading the code printed past the output limit
    load_trace: list[tuple[int, str]] = field(default_factory=list)
    finished: bool = False  # the harness wrote its closing line
    ready: bool = False  # the harness read its request (its first line, before any program code)
    extra: dict = field(default_factory=dict)


def build_request(code: str, entry_point: str, cases: list[dict], case_seconds: float, output_bytes: int) -> bytes:
    """The harness's stdin: inputs only, never an expected value (invariant 2)."""
    inputs = [{"args": c.get("args", []), "kwargs": c.get("kwargs", {})} for c in cases]
    return json.dumps(
        {
            "code": code,
            "entry_point": entry_point,
            "cases": inputs,
            "case_seconds": case_seconds,
            "output_bytes": output_bytes,
        }
    ).encode("utf-8")


def parse_output(raw: bytes, case_count: int) -> HarnessResult:
    """Read the harness's JSON lines; cases with no line are marked Crashed.

    Lines that do not parse or name a case out of range are ignored: the
    harness never writes them, so they can only come from the program.
    """
    outcomes: dict[int, CaseOutcome] = {}
    result = HarnessResult(outcomes=[])
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if number == 0 and record == {"ready": True}:
            # Only the very first line counts: the program cannot run before it.
            result.ready = True
        elif "load_error" in record:
            result.load_error = str(record["load_error"])
            result.message = str(record.get("message", ""))
            result.load_trace = _trace(record.get("trace"))
        elif record.get("done") is True:
            result.finished = True
            result.output = str(record.get("output", ""))
            result.output_truncated = bool(record.get("output_truncated"))
            result.load_output_over = record.get("load_over") is True
            result.extra["peak_rss_kb"] = int(_number(record.get("peak_rss_kb")))
        elif isinstance(record.get("case"), int) and 0 <= record["case"] < case_count:
            index = record["case"]
            if index in outcomes:
                continue  # first word wins
            if "error" in record:
                outcomes[index] = CaseOutcome(
                    error=str(record["error"]),
                    message=str(record.get("message", "")),
                    trace=_trace(record.get("trace")),
                )
            else:
                outcomes[index] = CaseOutcome(value=record.get("value"), ms=_number(record.get("ms")))
            outcomes[index].output_span = _span(record.get("out"))
            outcomes[index].output_over = record.get("over") is True
    result.outcomes = [outcomes.get(i, CaseOutcome(error="Crashed")) for i in range(case_count)]
    return result


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _span(value: Any) -> tuple[int, int] | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        and value[0] <= value[1]
    ):
        return (value[0], value[1])
    return None


MAX_TRACE_FRAMES = 12


def _trace(value: Any) -> list[tuple[int, str]]:
    """A traceback as the harness writes it, [[line, function], ...]; anything
    else (the program may write lines of its own) gives no frames."""
    if not isinstance(value, list):
        return []
    frames = []
    for frame in value[:MAX_TRACE_FRAMES]:
        if (
            isinstance(frame, list)
            and len(frame) == 2
            and isinstance(frame[0], int)
            and not isinstance(frame[0], bool)
            and 0 <= frame[0] < 10**7
            and isinstance(frame[1], str)
        ):
            frames.append((frame[0], frame[1][:100]))
    return frames
