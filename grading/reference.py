"""Running an exam pack's reference solution against its cases, at import.

Reference solutions are author code from the repository, trusted like a
migration, so they run through the same harness but without the sandbox.
Candidates' code never comes through here.
"""

import subprocess

from django.conf import settings

from exams.loader import ReferenceRunError
from grading.sandbox.protocol import HARNESS_PATH, HarnessResult, build_request, parse_output

__all__ = ["ReferenceRunError", "run_reference"]


def run_reference(code: str, entry_point: str, cases: list[dict], timeout: float = 60.0) -> HarnessResult:
    request = build_request(code, entry_point, cases, case_seconds=10.0, output_bytes=65536)
    try:
        proc = subprocess.run(
            [settings.SANDBOX_PYTHON, "-I", "-S", str(HARNESS_PATH)],
            input=request,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ReferenceRunError(f"interpreter {settings.SANDBOX_PYTHON} not found (setting SANDBOX_PYTHON)") from None
    except subprocess.TimeoutExpired:
        raise ReferenceRunError(f"reference solution did not finish within {timeout:.0f} s") from None
    result = parse_output(proc.stdout, len(cases))
    if not result.finished and not result.load_error:
        stderr = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ReferenceRunError(f"harness exited with {proc.returncode}: {stderr[-1] if stderr else 'no output'}")
    return result
