"""Reading and checking exam packs (the format is in docs/authoring.md).

`load_pack` turns a pack folder into plain data or raises PackInvalid with
every problem found, each as `file:line: message`. It writes nothing; storing
is `exams.importer`. Keeping the two apart is what makes `--check` honest and
the import atomic: nothing is written unless every pack named loads.
"""

import ast
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ReferenceRunError(Exception):
    """A drill's reference solution could not be run at all."""


@dataclass(frozen=True)
class DrillTools:
    """How a drill's reference solution is run and its outputs compared.

    That is scoring's business (grading/ runs code and owns the trusted
    comparison); it registers its tools at start-up (`grading.apps`), so this
    module checks drills without importing the layer above it.
    `run_reference(code, entry_point, inputs)` returns the harness result
    (`load_error`, `message`, `outcomes`) or raises ReferenceRunError;
    `outputs_match(mode, expected, actual, tolerance)` compares one output.
    """

    run_reference: Callable[[str, str, list[dict]], Any]
    outputs_match: Callable[[str, Any, Any, float | None], bool]


_drill_tools: DrillTools | None = None


def register_drill_tools(tools: DrillTools) -> None:
    global _drill_tools
    _drill_tools = tools


# Part of every content hash: bump it when the same files should import as new
# content (a change in how the format is read).
FORMAT_VERSION = "1"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ORDER_PREFIX_RE = re.compile(r"^\d+[-_]")
REVEAL_POLICIES = ("on_demand", "after_submit", "never")
KINDS = ("text", "question", "prompt", "drill")
COMPARE_MODES = ("exact", "float", "unordered")
LIMIT_KEYS = ("cpu_seconds", "wall_seconds", "memory_mb", "output_kb")
DEFAULT_POINTS = {"text": 0, "question": 5, "prompt": 10, "drill": 10}
WRITTEN_HEADING = "## Written part"
ANSWER_HEADING = "## Model answer"
DRILL_FILES = ("item.md", "starter.py", "solution.py", "cases.jsonl")
CASE_KEYS = {"category", "args", "kwargs", "expected", "name", "visible"}
MAX_FILE_BYTES = 1_000_000

EXAM_KEYS = {
    "title",
    "summary",
    "duration_minutes",
    "reveal_policy",
    "tags",
    "rubric",
    "reviews",
    "adjudication_threshold",
    "anonymous_marking",
}
SECTION_KEYS = {"title", "slug"}
ITEM_KEYS = {
    "title",
    "kind",
    "slug",
    "points",
    "rubric",
    "entry_point",
    "compare",
    "tolerance",
    "written_points",
    "limits",
}
DRILL_ONLY_KEYS = {"entry_point", "compare", "tolerance", "written_points", "limits"}


@dataclass(frozen=True)
class PackError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PackInvalid(Exception):
    def __init__(self, errors: list[PackError]):
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


@dataclass
class Criterion:
    signal: str
    text: str
    points: int


@dataclass
class Case:
    category: str
    name: str
    args: list
    kwargs: dict
    expected: Any
    visible: bool
    line: int = 0
    has_expected: bool = True


@dataclass
class ItemData:
    slug: str
    kind: str
    title: str
    prompt_md: str
    answer_md: str = ""
    points: int = 0
    rubric: list[Criterion] = field(default_factory=list)
    written_prompt_md: str = ""
    written_points: int = 0
    entry_point: str = ""
    starter_code: str = ""
    reference_solution: str = ""
    compare: str = ""
    tolerance: float | None = None
    limits: dict = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    source: str = ""


@dataclass
class SectionData:
    slug: str
    title: str
    body_md: str
    source: str = ""
    items: list[ItemData] = field(default_factory=list)


@dataclass
class ExamData:
    slug: str
    title: str
    summary: str
    intro_md: str
    duration_minutes: int
    reveal_policy: str
    tags: list[str]
    rubric: list[Criterion]
    sections: list[SectionData]
    content_hash: str
    source: str
    # Reviewing: independent reviews per attempt (1 or 2); with two, the
    # percentage of the exam's points the totals may differ by before a third
    # reviewer adjudicates; whether reviewers see pseudonyms, not names.
    reviews: int = 1
    adjudication_threshold: int = 15
    anonymous_marking: bool = False


class _Collector:
    """Accumulates problems so one run reports all of them."""

    def __init__(self) -> None:
        self.errors: list[PackError] = []

    def add(self, path: Path | str, line: int, message: str) -> None:
        self.errors.append(PackError(_display(path), max(line, 1), message))


def _display(path: Path | str) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _ignored(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def slug_from_name(name: str) -> str:
    stem = name[:-3] if name.endswith(".md") else name
    return ORDER_PREFIX_RE.sub("", stem)


def read_text(path: Path, errors: _Collector) -> str | None:
    """File text as UTF-8, or None (with the reason recorded)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        errors.add(path, 1, "missing file")
        return None
    except OSError as exc:
        errors.add(path, 1, f"cannot read: {exc.strerror}")
        return None
    if len(data) > MAX_FILE_BYTES:
        errors.add(path, 1, f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        errors.add(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
        return None


class FrontMatter:
    """YAML front matter of a Markdown file, remembering where each key was."""

    def __init__(self, path: Path, data: dict, lines: dict[tuple, int], body: str, body_line: int):
        self.path = path
        self.data = data
        self.lines = lines
        self.body = body
        self.body_line = body_line

    def line(self, *key: Any) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1


def _node_lines(node: yaml.Node, path: tuple, offset: int, out: dict[tuple, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            out[child] = key_node.start_mark.line + offset
            _node_lines(value_node, child, offset, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out[child] = item.start_mark.line + offset
            _node_lines(item, child, offset, out)


def parse_front_matter(path: Path, text: str, errors: _Collector) -> FrontMatter | None:
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        errors.add(path, 1, "missing front matter: the file must start with a line '---'")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    except StopIteration:
        errors.add(path, 1, "front matter is not closed: add a line '---' after it")
        return None
    source = "\n".join(lines[1:end])
    # Line numbers of the file are 1-based and the YAML starts on line 2.
    offset = 2
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + offset if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        errors.add(path, line, f"front matter is not valid YAML: {problem}")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errors.add(path, 2, "front matter must be a mapping of keys to values")
        return None
    key_lines: dict[tuple, int] = {}
    if node is not None:
        _node_lines(node, (), offset, key_lines)
    body = "\n".join(lines[end + 1 :])
    return FrontMatter(path, data, key_lines, body, end + 2)


def _check_keys(fm: FrontMatter, allowed: set[str], required: tuple[str, ...], errors: _Collector) -> None:
    for key in fm.data:
        if key not in allowed:
            errors.add(fm.path, fm.line(key), f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in fm.data:
            errors.add(fm.path, 1, f"missing required key {key!r}")


def _string(fm: FrontMatter, key: str, errors: _Collector, default: str = "", max_len: int = 200) -> str:
    value = fm.data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        errors.add(fm.path, fm.line(key), f"{key!r} must be a non-empty string")
        return default
    if len(value) > max_len:
        errors.add(fm.path, fm.line(key), f"{key!r} is longer than {max_len} characters")
    return value.strip()


def _int(fm: FrontMatter, key: str, errors: _Collector, default: int, low: int, high: int) -> int:
    value = fm.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(fm.path, fm.line(key), f"{key!r} must be a whole number from {low} to {high}")
        return default
    return value


def _bool(fm: FrontMatter, key: str, errors: _Collector, default: bool) -> bool:
    value = fm.data.get(key, default)
    if not isinstance(value, bool):
        errors.add(fm.path, fm.line(key), f"{key!r} must be true or false")
        return default
    return value


def _slug(fm: FrontMatter | None, folder_name: str, path: Path, errors: _Collector) -> str:
    slug = slug_from_name(folder_name)
    line = 1
    if fm is not None and "slug" in fm.data:
        slug, line = fm.data["slug"], fm.line("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > 50:
        errors.add(path, line, f"slug {slug!r} must be lowercase letters, digits and single hyphens (at most 50)")
    return str(slug)


def _rubric(fm: FrontMatter, errors: _Collector) -> list[Criterion]:
    raw = fm.data.get("rubric")
    if raw is None:
        return []
    if not isinstance(raw, dict) or not set(raw) <= {"strong", "weak"}:
        errors.add(fm.path, fm.line("rubric"), "rubric must be a mapping with 'strong' and/or 'weak' lists")
        return []
    criteria = []
    for signal in ("strong", "weak"):
        entries = raw.get(signal) or []
        if not isinstance(entries, list):
            errors.add(fm.path, fm.line("rubric", signal), f"rubric.{signal} must be a list")
            continue
        for index, entry in enumerate(entries):
            line = fm.line("rubric", signal, index)
            if not isinstance(entry, dict) or set(entry) != {"text", "points"}:
                errors.add(fm.path, line, f"each rubric.{signal} entry needs exactly 'text' and 'points'")
                continue
            text, points = entry["text"], entry["points"]
            if not isinstance(text, str) or not text.strip():
                errors.add(fm.path, line, f"rubric.{signal} text must be a non-empty string")
                continue
            if isinstance(points, bool) or not isinstance(points, int):
                errors.add(fm.path, line, f"rubric.{signal} points must be a whole number")
                continue
            if signal == "strong" and points <= 0:
                errors.add(fm.path, line, "a strong signal must have positive points")
                continue
            if signal == "weak" and points >= 0:
                errors.add(fm.path, line, "a weak signal must have negative points")
                continue
            criteria.append(Criterion(signal, text.strip(), points))
    return criteria


def _split_body(fm: FrontMatter, kind: str, errors: _Collector) -> tuple[str, str, str]:
    """(prompt, written part, model answer) of an item's body."""
    parts = {"prompt": [], "written": [], "answer": []}
    current = "prompt"
    seen: dict[str, int] = {}
    for offset, line in enumerate(fm.body.split("\n")):
        heading = line.rstrip()
        number = fm.body_line + offset
        if heading in (WRITTEN_HEADING, ANSWER_HEADING):
            name = "written" if heading == WRITTEN_HEADING else "answer"
            if name in seen:
                errors.add(fm.path, number, f"'{heading}' appears twice")
            elif name == "written" and "answer" in seen:
                errors.add(fm.path, number, f"'{WRITTEN_HEADING}' must come before '{ANSWER_HEADING}'")
            seen[name] = number
            current = name
            continue
        parts[current].append(line)
    if "written" in seen and kind != "drill":
        errors.add(fm.path, seen["written"], f"only drills have a '{WRITTEN_HEADING}'")
    if "answer" in seen and kind == "text":
        errors.add(fm.path, seen["answer"], "a text item has no model answer")
    prompt, written, answer = ("\n".join(parts[k]).strip() for k in ("prompt", "written", "answer"))
    if not prompt and kind != "text":
        errors.add(fm.path, fm.body_line, "the item has no prompt (text before the first '## ' heading)")
    return prompt, written, answer


def _python_file(path: Path, entry_point: str, errors: _Collector) -> str | None:
    text = read_text(path, errors)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=path.name)
    except SyntaxError as exc:
        errors.add(path, exc.lineno or 1, f"Python syntax error: {exc.msg}")
        return None
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if entry_point and entry_point not in defined:
        errors.add(path, 1, f"does not define the entry point {entry_point}()")
    return text


def _cases(path: Path, errors: _Collector) -> list[Case]:
    text = read_text(path, errors)
    if text is None:
        return []
    cases = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            record = json.loads(stripped)
        except ValueError as exc:
            errors.add(path, number, f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            errors.add(path, number, "each case must be a JSON object")
            continue
        unknown = set(record) - CASE_KEYS
        if unknown:
            errors.add(path, number, f"unknown case keys: {', '.join(sorted(unknown))}")
            continue
        category, args = record.get("category"), record.get("args")
        kwargs, name, visible = record.get("kwargs", {}), record.get("name", ""), record.get("visible", False)
        problems = []
        if not isinstance(category, str) or not category.strip() or len(category) > 100:
            problems.append("'category' must be a non-empty string (at most 100 characters)")
        if not isinstance(args, list):
            problems.append("'args' must be a list of positional arguments")
        if not isinstance(kwargs, dict):
            problems.append("'kwargs' must be an object")
        if not isinstance(name, str) or len(name) > 200:
            problems.append("'name' must be a string (at most 200 characters)")
        if not isinstance(visible, bool):
            problems.append("'visible' must be true or false")
        for problem in problems:
            errors.add(path, number, problem)
        if problems:
            continue
        cases.append(
            Case(
                category=category.strip(),
                name=name,
                args=args,
                kwargs=kwargs,
                expected=record.get("expected"),
                visible=visible,
                line=number,
                has_expected="expected" in record,
            )
        )
    if not cases and text is not None:
        errors.add(path, 1, "a drill needs at least one case")
    elif cases and all(case.visible for case in cases):
        errors.add(path, 1, "every case is visible: a drill needs hidden cases")
    return cases


def _drill_settings(fm: FrontMatter, item: ItemData, errors: _Collector) -> None:
    entry = fm.data.get("entry_point")
    if not isinstance(entry, str) or not entry.isidentifier():
        errors.add(fm.path, fm.line("entry_point"), "'entry_point' must be a Python function name")
    else:
        item.entry_point = entry
    item.compare = fm.data.get("compare", "exact")
    if item.compare not in COMPARE_MODES:
        errors.add(fm.path, fm.line("compare"), f"'compare' must be one of {', '.join(COMPARE_MODES)}")
    if "tolerance" in fm.data:
        tol = fm.data["tolerance"]
        if item.compare != "float":
            errors.add(fm.path, fm.line("tolerance"), "'tolerance' applies only to compare: float")
        elif isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
            errors.add(fm.path, fm.line("tolerance"), "'tolerance' must be a number between 0 and 1")
        else:
            item.tolerance = float(tol)
    limits = fm.data.get("limits", {})
    if not isinstance(limits, dict):
        errors.add(fm.path, fm.line("limits"), "'limits' must be a mapping")
        limits = {}
    for key, value in limits.items():
        if key not in LIMIT_KEYS:
            errors.add(fm.path, fm.line("limits", key), f"unknown limit {key!r} (allowed: {', '.join(LIMIT_KEYS)})")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            errors.add(fm.path, fm.line("limits", key), f"limit {key!r} must be a positive number")
    item.limits = dict(limits)


def _load_item(path: Path, folder: Path | None, errors: _Collector) -> ItemData | None:
    """An item from a .md file, or from a drill folder's item.md."""
    text = read_text(path, errors)
    if text is None:
        return None
    fm = parse_front_matter(path, text, errors)
    if fm is None:
        return None
    before = len(errors.errors)
    _check_keys(fm, ITEM_KEYS, ("title", "kind"), errors)
    kind = fm.data.get("kind")
    if kind not in KINDS:
        errors.add(path, fm.line("kind"), f"unknown item kind {kind!r} (use one of: {', '.join(KINDS)})")
        return None
    if kind == "drill" and folder is None:
        errors.add(path, fm.line("kind"), f"a drill is a folder holding {', '.join(DRILL_FILES)}")
        return None
    if kind != "drill" and folder is not None:
        errors.add(path, fm.line("kind"), "item.md in a folder must be a drill")
        return None
    if kind != "drill":
        for key in DRILL_ONLY_KEYS & set(fm.data):
            errors.add(path, fm.line(key), f"{key!r} applies only to drills")
    if kind == "text" and ("points" in fm.data or "rubric" in fm.data):
        errors.add(path, fm.line("points" if "points" in fm.data else "rubric"), "a text item has no points or rubric")
    prompt, written, answer = _split_body(fm, kind, errors)
    item = ItemData(
        slug=_slug(fm, (folder or path).name, path, errors),
        kind=kind,
        title=_string(fm, "title", errors),
        prompt_md=prompt,
        answer_md=answer,
        points=_int(fm, "points", errors, DEFAULT_POINTS[kind], 0, 1000),
        rubric=_rubric(fm, errors),
        written_prompt_md=written,
        source=_display(path),
    )
    if kind == "drill":
        _drill_settings(fm, item, errors)
        positive = sum(c.points for c in item.rubric if c.points > 0)
        item.written_points = _int(fm, "written_points", errors, positive if written else 0, 0, 1000)
        if item.written_points and not written:
            errors.add(path, fm.line("written_points"), f"'written_points' needs a '{WRITTEN_HEADING}'")
        for name in DRILL_FILES[1:]:
            if not (folder / name).is_file():
                errors.add(folder / name, 1, f"missing file (a drill holds {', '.join(DRILL_FILES)})")
        stray = [p.name for p in folder.iterdir() if p.name not in DRILL_FILES and not _ignored(p)]
        for name in sorted(stray):
            errors.add(folder / name, 1, "unexpected file in a drill folder")
        if len(errors.errors) == before:
            item.starter_code = _python_file(folder / "starter.py", item.entry_point, errors) or ""
            item.reference_solution = _python_file(folder / "solution.py", item.entry_point, errors) or ""
            item.cases = _cases(folder / "cases.jsonl", errors)
            if len(errors.errors) == before:
                _check_reference(item, folder, errors)
    return item if len(errors.errors) == before else None


def _check_reference(item: ItemData, folder: Path, errors: _Collector) -> None:
    """Run the reference solution on every case: fill missing expected values,
    and fail on any case it does not pass."""
    cases_path = folder / "cases.jsonl"
    inputs = [{"args": c.args, "kwargs": c.kwargs} for c in item.cases]
    if _drill_tools is None:
        errors.add(folder / "solution.py", 1, "drills cannot be checked: the grading app is not installed")
        return
    try:
        result = _drill_tools.run_reference(item.reference_solution, item.entry_point, inputs)
    except ReferenceRunError as exc:
        errors.add(folder / "solution.py", 1, f"reference solution could not run: {exc}")
        return
    if result.load_error:
        errors.add(folder / "solution.py", 1, f"reference solution failed to load: {result.message}")
        return
    for case, outcome in zip(item.cases, result.outcomes, strict=True):
        if not outcome.ok:
            detail = f": {outcome.message}" if outcome.message else ""
            errors.add(cases_path, case.line, f"reference solution failed this case ({outcome.error}{detail})")
        elif not case.has_expected:
            case.expected = outcome.value
        elif not _drill_tools.outputs_match(item.compare, case.expected, outcome.value, item.tolerance):
            got = json.dumps(outcome.value)[:200]
            errors.add(
                cases_path,
                case.line,
                f"reference solution returned {got}, but the case expects {json.dumps(case.expected)[:200]}",
            )


def _load_section(folder: Path, errors: _Collector) -> SectionData | None:
    path = folder / "section.md"
    if not path.is_file():
        errors.add(path, 1, "missing file: every section folder needs a section.md")
        return None
    text = read_text(path, errors)
    fm = parse_front_matter(path, text, errors) if text is not None else None
    if fm is None:
        return None
    _check_keys(fm, SECTION_KEYS, ("title",), errors)
    section = SectionData(
        slug=_slug(fm, folder.name, path, errors),
        title=_string(fm, "title", errors),
        body_md=fm.body.strip(),
        source=_display(path),
    )
    for entry in sorted(folder.iterdir()):
        if _ignored(entry) or entry.name == "section.md":
            continue
        if entry.is_dir():
            item = _load_item(entry / "item.md", entry, errors) if (entry / "item.md").is_file() else None
            if not (entry / "item.md").is_file():
                errors.add(entry / "item.md", 1, "missing file: a folder inside a section is a drill and needs item.md")
        elif entry.suffix == ".md":
            item = _load_item(entry, None, errors)
        else:
            errors.add(entry, 1, "unexpected file: a section holds section.md, item .md files and drill folders")
            continue
        if item is not None:
            section.items.append(item)
    return section


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256(f"exam-pack-format:{FORMAT_VERSION}\n".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        digest.update(f"{relative.as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_pack(folder: Path) -> ExamData:
    """The exam in `folder`, checked; raises PackInvalid listing every problem."""
    errors = _Collector()
    folder = Path(folder)
    exam_path = folder / "exam.md"
    if not folder.is_dir():
        raise PackInvalid([PackError(_display(folder), 1, "not a folder")])
    if not exam_path.is_file():
        raise PackInvalid([PackError(_display(exam_path), 1, "missing file: an exam pack needs exam.md")])
    text = read_text(exam_path, errors)
    fm = parse_front_matter(exam_path, text, errors) if text is not None else None
    if fm is None:
        raise PackInvalid(errors.errors)
    _check_keys(fm, EXAM_KEYS, ("title", "summary", "duration_minutes"), errors)
    slug = _slug(None, folder.name, exam_path, errors)
    reveal = fm.data.get("reveal_policy", "on_demand")
    if reveal not in REVEAL_POLICIES:
        errors.add(exam_path, fm.line("reveal_policy"), f"'reveal_policy' must be one of {', '.join(REVEAL_POLICIES)}")
    tags = fm.data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 40 for t in tags):
        errors.add(exam_path, fm.line("tags"), "'tags' must be a list of short strings")
        tags = []
    exam = ExamData(
        slug=slug,
        title=_string(fm, "title", errors),
        summary=_string(fm, "summary", errors, max_len=1000),
        intro_md=fm.body.strip(),
        duration_minutes=_int(fm, "duration_minutes", errors, 60, 1, 1440),
        reveal_policy=reveal,
        tags=tags,
        rubric=_rubric(fm, errors),
        sections=[],
        content_hash="",
        source=_display(folder),
        reviews=_int(fm, "reviews", errors, 1, 1, 2),
        adjudication_threshold=_int(fm, "adjudication_threshold", errors, 15, 1, 100),
        anonymous_marking=_bool(fm, "anonymous_marking", errors, False),
    )
    for entry in sorted(folder.iterdir()):
        if _ignored(entry) or entry.name == "exam.md":
            continue
        if not entry.is_dir():
            errors.add(entry, 1, "unexpected file: an exam pack holds exam.md and section folders")
            continue
        section = _load_section(entry, errors)
        if section is not None:
            exam.sections.append(section)
    if not exam.sections and not errors.errors:
        errors.add(exam_path, 1, "the exam has no sections")
    _check_duplicates(exam, errors)
    if errors.errors:
        raise PackInvalid(errors.errors)
    exam.content_hash = content_hash(folder)
    return exam


def _check_duplicates(exam: ExamData, errors: _Collector) -> None:
    seen_sections: set[str] = set()
    seen_items: set[str] = set()
    for section in exam.sections:
        if section.slug in seen_sections:
            errors.add(section.source, 1, f"duplicate section slug {section.slug!r}")
        seen_sections.add(section.slug)
        for item in section.items:
            if item.slug in seen_items:
                errors.add(item.source, 1, f"duplicate item slug {item.slug!r} (item slugs are unique within an exam)")
            seen_items.add(item.slug)


def load_packs(folders: list[Path]) -> list[ExamData]:
    """Every pack, or PackInvalid with the problems of all of them."""
    exams: list[ExamData] = []
    problems: list[PackError] = []
    seen: dict[str, Path] = {}
    for folder in folders:
        try:
            exam = load_pack(folder)
        except PackInvalid as exc:
            problems.extend(exc.errors)
            continue
        if exam.slug in seen:
            message = f"duplicate exam slug {exam.slug!r} (also {seen[exam.slug]})"
            problems.append(PackError(_display(Path(folder) / "exam.md"), 1, message))
            continue
        seen[exam.slug] = Path(folder)
        exams.append(exam)
    if problems:
        raise PackInvalid(problems)
    return exams
