"""One direction of dependency: content and taking (exams/) never import
scoring (grading/); scoring builds on them (docs/architecture.md, Layers)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_nothing_in_exams_imports_grading():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "grading")
        for path in (ROOT / "exams").rglob("*.py")
        if "packs" not in path.parts
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_check_sees_an_upward_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from grading.models import Submission\nimport grading.scoring\n", encoding="utf-8")
    assert imported_modules(sample) == {"grading.models", "grading.scoring"}
