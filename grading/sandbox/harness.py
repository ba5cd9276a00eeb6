"""Drill harness: runs one program's entry point against a list of inputs.

Standard library only, because it runs inside the sandbox with `python -I -S`.
It reads one JSON request on stdin:

    {"code": "...", "entry_point": "name", "cases": [{"args": [...], "kwargs": {...}}, ...],
     "case_seconds": 2.0, "output_bytes": 65536}

and writes JSON lines on the stdout it was started with: {"ready": true} once
the request is read (before any of the program's code runs, so the runner can
tell "the sandbox never started" from "the program broke it"), one line per
case as soon as the case ends, then a final {"done": ...} line. The program's
own prints go to a capped buffer instead; each case line carries the span
("out": [start, end]) of that buffer its case printed, and "over": true when
the case itself printed more than output_bytes (the limit is per case, so one
noisy case fails alone; prints while loading have a limit of their own,
reported as "load_over" on the closing line). The request carries inputs
only: expected outputs never enter this process (invariant 2), so nothing the
program does here can turn a wrong answer into a pass; the trusted grader
compares outside.
"""

import io
import json
import os
import resource
import signal
import sys
import time
import traceback


class CaseTimeout(BaseException):
    """Raised by the per-case timer. A BaseException so `except Exception` in the
    candidate's code does not swallow it."""


class _CappedText(io.TextIOBase):
    """Keeps the first `limit` characters printed; counts all of them, so that
    what one case printed can be told from what the others did."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0  # characters kept
        self.written = 0  # characters printed
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.written += len(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        if len(s) > room:
            self.truncated = True
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


def _to_json(value):
    """JSON text of a return value, or None if it is not representable."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def _on_alarm(signum, frame):
    raise CaseTimeout()


def main() -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    capture = _CappedText(int(request.get("output_bytes", 65536)))
    sys.stdout = sys.stderr = capture
    case_seconds = float(request.get("case_seconds", 2.0))

    def emit(record: dict) -> None:
        out.write(json.dumps(record, separators=(",", ":")) + "\n")

    emit({"ready": True})
    namespace: dict = {"__name__": "submission"}
    try:
        exec(compile(request["code"], "submission.py", "exec"), namespace)
        func = namespace[request["entry_point"]]
        if not callable(func):
            raise TypeError(f"{request['entry_point']} is not a function")
    except BaseException as exc:
        emit({"load_error": type(exc).__name__, "message": _last_line(exc), "trace": _trace(exc)})
        emit(_closing(capture, capture.written > capture.limit))
        return 0
    load_over = capture.written > capture.limit

    signal.signal(signal.SIGALRM, _on_alarm)
    for index, case in enumerate(request["cases"]):
        printed_from = capture.size
        written_from = capture.written
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, case_seconds)
        try:
            value = func(*case.get("args", []), **case.get("kwargs", {}))
        except CaseTimeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
            emit(_printed({"case": index, "error": "TimeLimit"}, capture, printed_from, written_from))
            continue
        except MemoryError:
            signal.setitimer(signal.ITIMER_REAL, 0)
            emit(_printed({"case": index, "error": "MemoryError"}, capture, printed_from, written_from))
            continue
        except BaseException as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            record = {"case": index, "error": type(exc).__name__, "message": _last_line(exc), "trace": _trace(exc)}
            emit(_printed(record, capture, printed_from, written_from))
            continue
        signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed_ms = (time.perf_counter() - started) * 1000
        over = ',"over":true' if capture.written - written_from > capture.limit else ""
        try:
            encoded = _to_json(value)
            line = (
                f'{{"case":{index},"ms":{elapsed_ms:.3f},"out":[{printed_from},{capture.size}]{over},'
                f'"value":{encoded}}}\n'
            )
        except MemoryError:
            # The value fit in memory but its JSON text does not.
            del value
            emit(_printed({"case": index, "error": "MemoryError"}, capture, printed_from, written_from))
            continue
        if encoded is None:
            record = {"case": index, "error": "NotSerializable", "message": type(value).__name__}
            emit(_printed(record, capture, printed_from, written_from))
        else:
            out.write(line)
        del value, encoded, line
    emit(_closing(capture, load_over))
    return 0


def _printed(record: dict, capture: _CappedText, printed_from: int, written_from: int) -> dict:
    """A case's record with the span it printed, and whether it printed past the limit."""
    record["out"] = [printed_from, capture.size]
    if capture.written - written_from > capture.limit:
        record["over"] = True
    return record


def _closing(capture: _CappedText, load_over: bool) -> dict:
    # The peak RSS is measured here because the runner cannot see it: its own
    # child inherits the worker's high-water mark when it execs.
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {
        "done": True,
        "output": capture.getvalue(),
        "output_truncated": capture.truncated,
        "load_over": load_over,
        "peak_rss_kb": peak,
    }


MAX_TRACE_FRAMES = 12


def _trace(exc: BaseException) -> list:
    """Where in the program's own code the exception passed, innermost last:
    [[line, function], ...]. Frames of the harness and the standard library
    are left out; the line numbers are those of the code as submitted, so
    they match the candidate's editor. A deep recursion keeps its first and
    last frames, with [0, ""] where the middle was cut."""
    frames = []
    try:
        for frame, line in traceback.walk_tb(exc.__traceback__):
            code = frame.f_code
            if code.co_filename == "submission.py":
                frames.append([line, str(getattr(code, "co_qualname", code.co_name))[:100]])
        if isinstance(exc, SyntaxError) and exc.filename == "submission.py" and isinstance(exc.lineno, int):
            frames.append([exc.lineno, ""])
    except Exception:
        return frames
    if len(frames) > MAX_TRACE_FRAMES:
        frames = [*frames[:3], [0, ""], *frames[-(MAX_TRACE_FRAMES - 4) :]]
    return frames


def _last_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    line = text.splitlines()[-1] if text else type(exc).__name__
    return line[:500]


if __name__ == "__main__":
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    try:
        status = main()
    except Exception as exc:
        # sys.stderr is the program's capture by now: say why on the real fd 2,
        # so the runner can tell a memory failure from a crash.
        os.write(2, f"harness stopped: {type(exc).__name__}\n".encode())
        status = 1
    sys.exit(status)
