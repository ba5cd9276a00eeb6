"""The trusted grader: runs a submission in the sandbox, compares outside.

`grade(item, code)` is a pure function of the code, the item's cases and its
limits. The sandbox gets the inputs only (invariant 2); the comparison with
the expected values happens here, on values that came back as JSON.

What a candidate may see is decided by where it came from. The visible
(sample) cases run in one sandbox and the hidden cases in another, so nothing
printed, returned or raised in the first run can have seen a hidden input:
only that run's output, actual values, exception types and messages are
shown. Of the hidden run the candidate learns a category and a reason, never
an exception's type: the program picks the type as freely as the message, so
either could spell out the hidden input it was raised on (point 9 of issue 12
saw 14 distinct builtin names in one run).
"""

import json
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exams.models import Answer, Item
from grading.compare import outputs_match
from grading.sandbox import runner
from grading.sandbox.protocol import CaseOutcome

MAX_CODE_BYTES = Answer.MAX_BYTES  # one limit: an answer that saves is code that runs
VISIBLE_OUTPUT_CHARS = 4000  # of a sample case's own prints, shown with it
VISIBLE_TEXT_CHARS = 4000  # of a sample case's actual value, as JSON text

PASSED = "passed"
RETURNED = "returned"  # a run on the candidate's own input gave a value back
WRONG_ANSWER = "wrong_answer"
EXCEPTION = "exception"
TIME_LIMIT = "time_limit"
MEMORY_LIMIT = "memory_limit"
OUTPUT_LIMIT = "output_limit"
NOT_SERIALIZABLE = "not_serializable"
CRASHED = "crashed"
LOAD_ERROR = "load_error"


@dataclass
class CaseResult:
    category: str
    visible: bool
    reason: str  # PASSED or one of the failure reasons
    exception: str = ""  # visible cases only: the exception's type name, for EXCEPTION and LOAD_ERROR
    message: str = ""  # visible cases only
    name: str = ""  # visible cases only
    input: dict | None = None  # visible cases only: {"args": [...], "kwargs": {...}}
    expected: Any = None  # visible cases only
    actual: Any = None  # visible cases only, when a value came back
    stdout: str = ""  # visible cases only: what the case printed (capped)
    trace: list = field(default_factory=list)  # visible cases only: [[line, function, text]] in the program's code

    @property
    def passed(self) -> bool:
        return self.reason == PASSED

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"category": self.category, "visible": self.visible, "reason": self.reason}
        if self.exception:
            data["exception"] = self.exception
        if self.visible:
            data.update(
                name=self.name,
                input=self.input,
                expected=self.expected,
                actual=self.actual,
                message=self.message,
                stdout=self.stdout,
            )
            if self.trace:
                data["trace"] = self.trace
        return data


@dataclass
class CategoryResult:
    name: str
    passed: int = 0
    total: int = 0
    failures: list[dict] = field(default_factory=list)  # reason (+ a sample's exception type), never an input

    @property
    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for failure in self.failures:
            counts[failure["reason"]] = counts.get(failure["reason"], 0) + 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "total": self.total,
            "reasons": self.reasons,
            "failures": self.failures,
        }


@dataclass
class GradeResult:
    status: str  # "graded", or "error" when the code could not be run at all
    passed: int = 0
    total: int = 0
    score: float = 0.0  # 0..item.points, proportional to the passed cases
    max_score: int = 0
    categories: list[CategoryResult] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    error: str = ""  # why status is "error"
    load_error: str = ""  # exception type when the code did not load for the sample run
    load_message: str = ""  # its message, from the run that saw only sample inputs
    load_trace: list = field(default_factory=list)  # where, in the program's code (sample run only)
    limits: dict = field(default_factory=dict)  # the limits it ran under, to name them in a failure
    custom: dict | None = None  # a run on the candidate's own input: what it returned, printed or raised
    cpu_ms: int = 0
    wall_ms: int = 0
    peak_rss_kb: int | None = None

    @property
    def visible_cases(self) -> list[CaseResult]:
        return [case for case in self.cases if case.visible]

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "error": self.error,
            "passed": self.passed,
            "total": self.total,
            "score": self.score,
            "max_score": self.max_score,
            "load_error": self.load_error,
            "load_message": self.load_message,
            "load_trace": self.load_trace,
            "limits": self.limits,
            "categories": [category.as_dict() for category in self.categories],
            "visible_cases": [case.as_dict() for case in self.visible_cases],
            "cpu_ms": self.cpu_ms,
            "wall_ms": self.wall_ms,
            "peak_rss_kb": self.peak_rss_kb,
            **({"custom": self.custom} if self.custom is not None else {}),
        }


def grade(item: Item, code: str, on_progress: Callable[[int], None] | None = None) -> GradeResult:
    """Grade `code` against the item's cases under the item's limits.

    `on_progress` hears the percentage of cases already run, before each sandbox run."""
    cases = list(item.cases.order_by("position"))
    limits = runner.Limits.for_drill(item.limits)
    result = GradeResult(status="graded", total=len(cases), max_score=item.points, limits=limits_shown(limits))
    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        return _error(result, f"the code is larger than {MAX_CODE_BYTES // 1024} KB")
    samples = [case for case in cases if case.visible]
    hidden = [case for case in cases if not case.visible]
    # The sample run always happens, even with no sample case: it is where a
    # load error's message can be taken from without leaking anything.
    groups = [(samples, True)] + ([(hidden, False)] if hidden else [])
    judged: dict[int, CaseResult] = {}
    peaks: list[int] = []
    told = _once(on_progress) if on_progress is not None else None
    for group, visible in groups:
        on_lines = None
        if told is not None:
            told(round(100 * len(judged) / max(1, len(cases))))
            on_lines = _case_progress(told, len(judged), len(group), len(cases))
        try:
            run = runner.run(code, item.entry_point, [_inputs(case) for case in group], limits, on_lines)
        except (runner.SandboxUnavailable, runner.SandboxError) as exc:
            return _error(result, str(exc))
        result.cpu_ms += run.cpu_ms
        result.wall_ms += run.wall_ms
        if run.peak_rss_kb is not None:
            peaks.append(run.peak_rss_kb)
        if visible and run.harness.load_error:
            result.load_error = run.harness.load_error
            result.load_message = run.harness.message
            result.load_trace = _frames(code, run.harness.load_trace)
        for case, verdict in zip(group, _judge(item, code, group, run, visible), strict=True):
            judged[case.pk] = verdict
    result.peak_rss_kb = max(peaks) if len(peaks) == len(groups) else None
    result.cases = [judged[case.pk] for case in cases]
    result.categories = _categories(result.cases)
    result.passed = sum(case.passed for case in result.cases)
    result.score = round(item.points * result.passed / result.total, 2) if result.total else 0.0
    return result


def _frames(code: str, trace: list) -> list[list]:
    """A traceback's frames with the text of each line, from the code as
    submitted: [[line, function, text], ...]; line 0 marks frames left out."""
    lines = code.splitlines()
    return [
        [line, function, lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""] for line, function in trace
    ]


def limits_shown(limits: "runner.Limits") -> dict:
    """The limits a run had, as a failure names them: "time limit (2 s per case)"."""
    return {
        "case_seconds": round(limits.case_seconds, 2),
        "wall_seconds": round(limits.wall_seconds, 2),
        "cpu_seconds": round(limits.cpu_seconds, 2),
        "memory_mb": round(limits.memory_mb),
        "output_kb": round(limits.output_kb),
    }


def _once(on_progress: Callable[[int], None]) -> Callable[[int], None]:
    """`on_progress`, told each percentage once and never 100 (the stored result says that)."""
    last = [0]  # the claim starts a run at 0%

    def tell(percent: int) -> None:
        if percent != last[0] and percent < 100:
            last[0] = percent
            on_progress(percent)

    return tell


def _case_progress(on_progress: Callable[[int], None], before: int, group: int, total: int) -> Callable[[int], None]:
    """From the harness's line count (a ready line, then one per case) to the
    percentage of all cases done."""

    def heard(lines: int) -> None:
        on_progress(round(100 * (before + min(group, max(0, lines - 1))) / max(1, total)))

    return heard


def run_own_input(item: Item, code: str, inputs: dict, on_progress: Callable[[int], None] | None = None) -> GradeResult:
    """Run `code` once on the candidate's own arguments (`{"args": [...],
    "kwargs": {...}}`, parsed outside the sandbox by grading.own_input) under
    the drill's limits. Nothing is compared and nothing scored: the result
    says what the call returned, printed or raised. No hidden input is
    involved, so all of it may be shown."""
    limits = runner.Limits.for_drill(item.limits)
    result = GradeResult(status="graded", limits=limits_shown(limits))
    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        return _error(result, f"the code is larger than {MAX_CODE_BYTES // 1024} KB")
    if on_progress is not None:
        on_progress(0)
    try:
        run = runner.run(code, item.entry_point, [inputs], limits)
    except (runner.SandboxUnavailable, runner.SandboxError) as exc:
        return _error(result, str(exc))
    result.cpu_ms, result.wall_ms, result.peak_rss_kb = run.cpu_ms, run.wall_ms, run.peak_rss_kb
    harness = run.harness
    (outcome,) = harness.outcomes
    custom: dict[str, Any] = {"input": inputs, "reason": RETURNED, "actual": None, "exception": "", "message": ""}
    if harness.load_error:
        custom.update(reason=LOAD_ERROR, exception=harness.load_error, message=harness.message)
        result.load_error, result.load_message = harness.load_error, harness.message
        result.load_trace = _frames(code, harness.load_trace)
    elif outcome.error == "Crashed":
        custom["reason"] = _process_reason(run)
    elif outcome.error:
        custom["reason"] = {"TimeLimit": TIME_LIMIT, "MemoryError": MEMORY_LIMIT}.get(outcome.error, EXCEPTION)
        if outcome.error == "NotSerializable":
            custom.update(reason=NOT_SERIALIZABLE, message=outcome.message)
        elif custom["reason"] == EXCEPTION:
            custom.update(exception=outcome.error, message=outcome.message)
            custom["trace"] = _frames(code, outcome.trace)
    else:
        custom["actual"] = _shown(outcome.value)
    if custom["reason"] == RETURNED and (outcome.output_over or harness.load_output_over):
        custom["reason"] = OUTPUT_LIMIT
    custom["stdout"] = _printed(harness.output, outcome)
    result.custom = custom
    return result


def _error(result: GradeResult, why: str) -> GradeResult:
    result.status = "error"
    result.error = why
    return result


def _inputs(case) -> dict:
    # Inputs only: the runner's request is built from these (invariant 2).
    return {"args": case.args, "kwargs": case.kwargs or {}}


def _judge(item: Item, code: str, group: list, run: "runner.RunResult", visible: bool) -> list[CaseResult]:
    harness = run.harness
    process_reason = _process_reason(run)
    verdicts = []
    for case, outcome in zip(group, harness.outcomes, strict=True):
        verdict = CaseResult(category=case.category, visible=visible, reason=PASSED)
        if harness.load_error:
            verdict.reason = LOAD_ERROR
            verdict.exception = harness.load_error
            verdict.message = harness.message
        elif outcome.error == "Crashed":
            verdict.reason = process_reason
        else:
            verdict.reason = _case_reason(item, case, outcome)
            if verdict.reason == EXCEPTION:
                verdict.exception = outcome.error
                verdict.message = outcome.message
        if verdict.passed and (outcome.output_over or harness.load_output_over):
            # Printed past the drill's output limit: the limit is per case, so
            # only the case that printed fails (or every case, when loading did).
            verdict.reason = OUTPUT_LIMIT
        if visible:
            verdict.name = case.name
            verdict.input = _inputs(case)
            verdict.expected = case.expected
            verdict.actual = _shown(outcome.value) if outcome.ok else None
            verdict.stdout = _printed(harness.output, outcome)
            if verdict.reason == EXCEPTION:
                verdict.trace = _frames(code, outcome.trace)
        else:
            # Loading can read the request too (the caller's frame), so a
            # hidden run's load error is as much the input's choice as a case's.
            verdict.exception = verdict.message = ""
        verdicts.append(verdict)
    return verdicts


def _case_reason(item: Item, case, outcome: CaseOutcome) -> str:
    if outcome.error == "TimeLimit":
        return TIME_LIMIT
    if outcome.error == "MemoryError":
        return MEMORY_LIMIT
    if outcome.error == "NotSerializable":
        return NOT_SERIALIZABLE
    if outcome.error:
        return EXCEPTION
    if outputs_match(item.compare or "exact", case.expected, outcome.value, item.tolerance):
        return PASSED
    return WRONG_ANSWER


def _process_reason(run: "runner.RunResult") -> str:
    """Why the cases the harness never answered got no answer: the process
    ended under them (the reason every remaining case gets)."""
    if run.killed == "wall" or run.cpu_limit_hit or run.term_signal == signal.SIGXCPU:
        return TIME_LIMIT
    if run.killed == "output":
        return OUTPUT_LIMIT
    # A failed allocation can also kill the interpreter outright instead of
    # raising MemoryError. Stderr is the program's to write, but all it can
    # change here is which failure reason it gets.
    if "MemoryError" in run.stderr or "Cannot allocate memory" in run.stderr or "out of memory" in run.stderr:
        return MEMORY_LIMIT
    return CRASHED


def _shown(value: Any) -> Any:
    text = json.dumps(value)
    if len(text) <= VISIBLE_TEXT_CHARS:
        return value
    return text[:VISIBLE_TEXT_CHARS] + "... (truncated)"


def _printed(output: str, outcome: CaseOutcome) -> str:
    if outcome.output_span is None:
        return ""
    start, end = outcome.output_span
    text = output[start:end]
    return text if len(text) <= VISIBLE_OUTPUT_CHARS else text[:VISIBLE_OUTPUT_CHARS] + "\n... (truncated)"


def _categories(cases: list[CaseResult]) -> list[CategoryResult]:
    by_name: dict[str, CategoryResult] = {}
    for case in cases:
        category = by_name.setdefault(case.category, CategoryResult(name=case.category))
        category.total += 1
        if case.passed:
            category.passed += 1
        else:
            failure = {"reason": case.reason}
            if case.exception:
                failure["exception"] = case.exception
            if case.visible:
                failure["case"] = case.name
                if case.message:
                    failure["message"] = case.message
            category.failures.append(failure)
    return list(by_name.values())
