"""Group ``bot/``'s flat modules into sub-packages: move each file, rewrite every reference.

A one-off transformation, kept as a script so that it can run again on a newer ``main``
(other branches add and change modules while it waits). Run it from the repository root on
a clean work tree, then run the checks and commit the result on its own::

    .venv/bin/python scripts/reorganise.py --dry-run      # the plan, and unplaced modules
    .venv/bin/python scripts/reorganise.py [old=new ...]  # do it
    make lint test

``MOVES`` below is the mapping. A module in ``bot/`` that is neither in ``MOVES`` nor in
``STAYS`` (one added since the table was written) stops the run; place it on the command line,
``name=knowledge.name`` to move it or ``name=name`` to keep it at the top. The script refuses
to run twice (a package it creates exists already, or a module it moves is gone) and refuses
a dirty work tree, so ``git checkout . && git clean -fd bot`` undoes it before a commit.

What it rewrites, in the tracked text files but ``knowledge/``, ``CHANGELOG.md`` (the history
keeps the paths of its day), this script and its test: imports (``from bot.x import``,
``import bot.x``, ``from bot import x``), dotted names in strings and comments (mock and
monkeypatch targets, logger names, ``:mod:`` roles), ``bot/x.py`` file paths in code and
documents, and the ``pyproject.toml`` package data of the directories that move (Alembic's
``migrations/`` goes with ``db``, which finds it beside itself). Imports are re-sorted and
formatted by ruff after; what needs a person (a rewritten line now too long) is listed.
Once run and merged, the script has done its work and may be deleted.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

# New sub-package: the docstring of its ``__init__.py``. Lower packages come first: each
# imports only the ones above it in this list, and the top-level modules in ``STAYS``.
PACKAGES = {
    "storage": "Storage: the database, its SQLAlchemy tables and Alembic migrations.",
    "knowledge": (
        "The knowledge directory as the engine sees it: loading documents, cutting them into\n"
        "clauses, their versions and changes, hints, the glossary, embeddings and the vector store."
    ),
    "answers": (
        "Answering from the index: hybrid retrieval, the answer gate, the clause chooser,\n"
        "extractive answers, routing to a team, and what an answer offers."
    ),
    "approved": "Approved answers: reviewers' replies kept, matched to questions, served again.",
    "llm": "The optional language model: phrasing, its prompt and checks, embeddings and hints.",
    "conversation": "Conversations: the recent questions, and follow-ups understood with them.",
    "reload": "Reloading the knowledge: the atomic, incremental index build and its report.",
    "audit": "The audit trail (who was told what, pseudonymised) and its spool.",
    "cases": "Escalation cases: the case machine, its rows and rules, the outbox, feedback.",
    "ops": "What admins run and read: doctor, backup, metrics, insights, evaluation.",
}

# Old module under ``bot`` -> new dotted name under ``bot``. Packages (``loaders``) and
# directories (``migrations``) move whole.
MOVES = {
    "db": "storage.db",
    "storage_models": "storage.models",
    "migrations": "storage.migrations",
    "loaders": "knowledge.loaders",
    "documents": "knowledge.documents",
    "chunking": "knowledge.chunking",
    "changes": "knowledge.changes",
    "paths": "knowledge.paths",
    "hints": "knowledge.hints",
    "glossary": "knowledge.glossary",
    "embeddings": "knowledge.embeddings",
    "store": "knowledge.store",
    "text": "answers.text",
    "keyword": "answers.keyword",
    "linear": "answers.linear",
    "gate": "answers.gate",
    "choice": "answers.choice",
    "retrieval": "answers.retrieval",
    "routing": "answers.routing",
    "answering": "answers.answering",
    "questions": "answers.questions",
    "offers": "answers.offers",
    "llm": "llm.phrasing",
    "llm_config": "llm.config",
    "llm_embeddings": "llm.embeddings",
    "llm_hints": "llm.hints",
    "llm_prompt": "llm.prompt",
    "index": "reload.index",
    "reload_report": "reload.report",
    "audit": "audit.trail",
    "audit_spool": "audit.spool",
    "cases": "cases.service",
    "case_rows": "cases.rows",
    "case_rules": "cases.rules",
    "casework": "cases.casework",
    "outbox": "cases.outbox",
    "feedback": "cases.feedback",
    "doctor": "ops.doctor",
    "backup": "ops.backup",
    "metrics": "ops.metrics",
    "insights": "ops.insights",
    "evaluation": "ops.evaluation",
}

# Modules on other branches, not yet in this tree: moved when present (a rehearsal merge placed
# them where the layers in pyproject.toml allow).
AWAITED = {
    "parse_cache": "reload.parse_cache",
    "vector_file": "knowledge.vector_file",
    "privacy": "answers.privacy",
    "approved": "approved.service",
    "approved_match": "approved.match",
    "approved_views": "approved.views",
    "conversation": "conversation.history",
    "follow_up": "conversation.follow_up",
    "llm_rewrite": "conversation.rewrite",
    "contacts": "audit.contacts",
    "announcements": "ops.announcements",
    "digest": "ops.digest",
    "insights_html": "ops.insights_html",
}

# Top-level modules that stay: what adapters hold and render, and the contracts between them.
STAYS = frozenset(
    {
        "assistant",  # the façade adapters call
        "engine",  # the answer engine (PolicyBot), which joins answers, llm and reload
        "config",
        "errors",
        "models",
        "ports",  # interfaces the core calls and adapters implement
        "case_views",  # what adapters give and see of a case (CaseRequest, CaseView)
        "phrases",  # the wording every adapter shows
        "platform_state",  # the state adapters share between instances
    }
)
NOT_MODULES = frozenset({"data", "__pycache__"})

TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".txt", ".mako", ".yml", ".yaml"}
SKIPPED = ("knowledge/", "CHANGELOG.md", "scripts/reorganise.py", "tests/test_reorganise.py")


@dataclass
class Plan:
    """The moves to make, as dotted names and as paths, with what to tell the user."""

    moves: dict[str, str]
    folders: frozenset[str]  # the moves that are packages or directories, not modules
    unplaced: list[str] = field(default_factory=list)

    def dotted(self) -> dict[str, str]:
        return {f"bot.{old}": f"bot.{new}" for old, new in self.moves.items()}

    def source(self, old: str) -> Path:
        return Path("bot", old if old in self.folders else f"{old}.py")

    def target(self, old: str) -> Path:
        new = Path("bot", *self.moves[old].split("."))
        return new if old in self.folders else new.with_suffix(".py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extra", nargs="*", help="more moves, old=new (new=old keeps it)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args(argv)
    if not (Path("bot/__init__.py").is_file() and Path("pyproject.toml").is_file()):
        return fail("run from the repository root")
    try:
        plan = make_plan(args.extra)
    except ValueError as exc:
        return fail(str(exc))
    for old in sorted(plan.moves, key=plan.moves.__getitem__):
        print(f"  {plan.source(old)} -> {plan.target(old)}")
    if plan.unplaced:
        names = " ".join(f"{name}=<package>.{name}" for name in plan.unplaced)
        return fail(
            f"not in the mapping: {', '.join(plan.unplaced)}. Place each on the command line "
            f"({names}, or name=name to keep it at the top) and run again."
        )
    if args.dry_run:
        return 0
    if run("git", "status", "--porcelain").strip():
        return fail("the work tree has changes: commit or stash them first")
    move(plan)
    changed = rewrite_all(plan)
    tidy([path for path in changed if path.suffix == ".py"])
    for warning in warnings(plan, changed):
        print(f"check by hand: {warning}")
    print(f"moved {len(plan.moves)} modules, rewrote {len(changed)} files; now run the checks")
    return 0


def make_plan(extra: list[str]) -> Plan:
    """The mapping plus ``extra`` pairs; raises ValueError when it cannot run (again)."""
    moves = dict(MOVES)
    stays = set(STAYS)
    for pair in extra:
        old, sep, new = pair.partition("=")
        old, new = old.removeprefix("bot."), new.removeprefix("bot.")
        if not sep or "." in old or not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*", new):
            raise ValueError(f"{pair!r}: give old=new, e.g. spelling=answers.spelling")
        if old == new:
            stays.add(old)
        elif new.split(".")[0] not in PACKAGES:
            raise ValueError(f"{pair!r}: {new.split('.')[0]} is not one of {', '.join(PACKAGES)}")
        else:
            moves[old] = new
    made = [name for name in PACKAGES if Path("bot", name).exists()]
    gone = [old for old in moves if not Path("bot", old).exists() and old + ".py" not in _present()]
    awaited = {
        old: new
        for old, new in AWAITED.items()
        if Path("bot", f"{old}.py").is_file() and old not in stays
    }
    moves = {**awaited, **moves}
    if made or gone:
        raise ValueError(
            "already reorganised, or the tree is not the one this script knows: "
            f"{len(made)} packages exist ({', '.join(made[:3])}...), {len(gone)} modules are "
            "gone. It runs once, on the flat layout."
        )
    present = _present()
    unplaced = sorted(
        name.removesuffix(".py")
        for name in present
        if name.removesuffix(".py") not in moves and name.removesuffix(".py") not in stays
    )
    folders = frozenset(old for old in moves if Path("bot", old).is_dir())
    return Plan(moves, folders, unplaced)


def _present() -> set[str]:
    """The top-level entries of ``bot/`` that are modules, packages or moved directories."""
    found = set()
    for path in Path("bot").iterdir():
        if path.name in NOT_MODULES or path.name == "__init__.py":
            continue
        if path.suffix == ".py" or (path.is_dir() and path.name in MOVES):
            found.add(path.name)
        elif path.is_dir() and (path / "__init__.py").exists():
            found.add(path.name)
    return found


def move(plan: Plan) -> None:
    """Create the sub-packages and ``git mv`` each module into its own."""
    for package in sorted({new.split(".")[0] for new in plan.moves.values()}):
        init = Path("bot", package, "__init__.py")
        init.parent.mkdir()
        init.write_text(f'"""{PACKAGES[package]}"""\n', encoding="utf-8")
        run("git", "add", str(init))
    for old in plan.moves:
        target = plan.target(old)
        target.parent.mkdir(parents=True, exist_ok=True)
        run("git", "mv", str(plan.source(old)), str(target))


def rewrite_all(plan: Plan) -> list[Path]:
    """Rewrite every tracked text file that names a moved module; the files changed."""
    changed = []
    for name in run("git", "ls-files").splitlines():
        path = Path(name)
        if name.startswith(SKIPPED) or not path.is_file():
            continue
        if path.suffix not in TEXT_SUFFIXES and path.name not in {"Makefile", "run"}:
            continue
        before = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            after = rewrite_python(before, plan, path)
        else:
            after = rewrite_text(before, plan)
        if path.name == "pyproject.toml":
            after = rewrite_package_data(after, plan)
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


def rewrite_text(text: str, plan: Plan) -> str:
    """Dotted module names and file paths in any text."""
    dotted = plan.dotted()
    names = "|".join(re.escape(old) for old in sorted(plan.moves, key=len, reverse=True))
    text = re.sub(rf"(?<![\w.])bot\.({names})(?!\w)", lambda m: dotted[m.group(0)], text)

    def path(match: re.Match[str]) -> str:
        old, suffix = match.group(1), match.group(2) or ""
        return "bot/" + plan.moves[old].replace(".", "/") + suffix

    return re.sub(rf"(?<![\w/.-])bot/({names})(\.py)?(?![\w])", path, text)


def rewrite_python(source: str, plan: Plan, path: Path) -> str:
    """Imports, ``bot.x`` in code where ``bot`` is the package, and strings and comments."""
    if path.parent == Path("bot"):
        source = _absolute_imports(source)
    source = _rewrite_tokens(source, plan)
    edits = []
    starts = _line_starts(source)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "bot":
            if any(alias.name in plan.moves for alias in node.names):
                start = starts[node.lineno - 1] + node.col_offset
                end = starts[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0)
                indent = " " * node.col_offset
                edits.append((start, end, f"\n{indent}".join(_split_from_bot(node, plan))))
    return _apply(source, edits)


def _absolute_imports(source: str) -> str:
    """``from .x import y`` in a top-level module as ``from bot.x import y``."""
    starts = _line_starts(source)
    edits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            start = starts[node.lineno - 1] + node.col_offset
            end = starts[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0)
            module = "bot" + (f".{node.module}" if node.module else "")
            edits.append((start, end, ast.unparse(ast.ImportFrom(module, node.names, 0))))
    return _apply(source, edits)


def _split_from_bot(node: ast.ImportFrom, plan: Plan) -> list[str]:
    """``from bot import a, cases`` as ``from bot import a`` and ``from bot.cases import
    service as cases``: the names bound stay the same."""
    kept = [a for a in node.names if a.name not in plan.moves]
    lines = [ast.unparse(ast.ImportFrom("bot", kept, 0))] if kept else []
    for alias in node.names:
        if alias.name in plan.moves:
            parent, _, leaf = f"bot.{plan.moves[alias.name]}".rpartition(".")
            bound = alias.asname or alias.name
            lines.append(f"from {parent} import {leaf}" + (f" as {bound}" if bound != leaf else ""))
    return lines


def _rewrite_tokens(source: str, plan: Plan) -> str:
    """Strings and comments get :func:`rewrite_text`; code gets ``bot.x`` rewritten in
    imports, and elsewhere only where an ``import bot…`` binds the name (a variable may be
    called ``bot``)."""
    binds_bot = any(
        isinstance(node, ast.Import)
        and any(a.name.split(".")[0] == "bot" and a.asname is None for a in node.names)
        for node in ast.walk(ast.parse(source))
    )
    starts = _line_starts(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits = []
    dotted = plan.dotted()
    for i, tok in enumerate(tokens):
        start = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            new = _rewrite_literal(tok.string, plan)
            if new != tok.string:
                edits.append((start, end, new))
        elif (
            tok.type == tokenize.NAME
            and tok.string == "bot"
            and (i == 0 or tokens[i - 1].string != ".")
            and i + 2 < len(tokens)
            and tokens[i + 1].string == "."
            and f"bot.{tokens[i + 2].string}" in dotted
        ):
            after = tokens[i + 2]
            is_import = _in_import(tokens, i)
            if binds_bot or is_import:
                stop = starts[after.end[0] - 1] + after.end[1]
                edits.append((start, stop, dotted[f"bot.{after.string}"]))
    return _apply(source, edits)


def _rewrite_literal(literal: str, plan: Plan) -> str:
    """A string or comment; in an f-string only the text outside its ``{…}`` fields, whose
    code may name a variable ``bot`` (``f"{bot.index.current_id()}"``)."""
    return "".join(
        piece if field else rewrite_text(piece, plan) for piece, field in _pieces(literal)
    )


def _pieces(literal: str) -> list[tuple[str, bool]]:
    """A literal cut into text and, for an f-string, its ``{…}`` fields (True)."""
    prefix = re.match(r"[A-Za-z]*", literal)
    if prefix is None or "f" not in prefix.group(0).lower():
        return [(literal, False)]
    pieces: list[tuple[str, bool]] = []
    depth, start, i = 0, 0, 0
    while i < len(literal):
        if depth == 0 and literal.startswith(("{{", "}}"), i):
            i += 2
            continue
        if literal[i] == "{":
            if depth == 0:
                pieces.append((literal[start:i], False))
                start = i
            depth += 1
        elif literal[i] == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                pieces.append((literal[start : i + 1], True))
                start = i + 1
        i += 1
    pieces.append((literal[start:], depth > 0))
    return pieces


def _in_import(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """Whether token ``i`` is the module of an ``import`` or ``from … import`` statement."""
    j = i - 1
    while j >= 0 and tokens[j].type not in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT):
        if tokens[j].string in ("import", "from"):
            return True
        j -= 1
    return False


def _line_starts(source: str) -> list[int]:
    starts, total = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    return [*starts, total]


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        source = source[:start] + new + source[end:]
    return source


def rewrite_package_data(text: str, plan: Plan) -> str:
    """Give each moved directory's package data to the package it now lives in."""
    match = re.search(r"^bot = \[(.*)\]$", text, flags=re.MULTILINE)
    if match is None:
        return text
    entries = re.findall(r'"([^"]+)"', match.group(1))
    keep: list[str] = []
    moved: dict[str, list[str]] = {}
    for entry in entries:
        first, _, rest = entry.partition("/")
        if first in plan.moves and rest:
            parent, _, leaf = plan.moves[first].rpartition(".")
            moved.setdefault(f"bot.{parent}" if parent else "bot", []).append(f"{leaf}/{rest}")
        else:
            keep.append(entry)
    lines = [f"bot = [{', '.join(map(quote, keep))}]"]
    lines += [f'"{package}" = [{", ".join(map(quote, data))}]' for package, data in moved.items()]
    return text[: match.start()] + "\n".join(lines) + text[match.end() :]


def quote(value: str) -> str:
    return f'"{value}"'


def tidy(paths: list[Path]) -> None:
    """Sort the rewritten imports and format, with the project's ruff settings."""
    if not paths:
        return
    names = [str(path) for path in paths]
    run(sys.executable, "-m", "ruff", "check", "--quiet", "--select", "I", "--fix", *names)
    run(sys.executable, "-m", "ruff", "format", "--quiet", *names)


def warnings(plan: Plan, changed: list[Path]) -> list[str]:
    """What to look at by hand: modules that find files relative to themselves, old names
    left over, and ruff's complaints (a rewritten docstring line may be too long now)."""
    found = []
    for old in plan.moves:
        target = plan.target(old)
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            text = path.read_text(encoding="utf-8")
            if "__file__" in text or "resources.files(" in text:
                found.append(f"{path} finds files relative to itself")
    for name in run("git", "ls-files").splitlines():
        path = Path(name)
        if name.startswith(SKIPPED) or path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        found += _leftovers(path, plan)
    python = [str(path) for path in changed if path.suffix == ".py"]
    if python:
        lint = run(
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--output-format",
            "concise",
            *python,
            check=False,
        )
        found += [line for line in lint.splitlines() if line.startswith(tuple(python))]
    return found


def _leftovers(path: Path, plan: Plan) -> list[str]:
    """Old module names still in ``path``: in imports that no longer resolve, and in the
    strings, comments and documents (code may have a variable called ``bot``)."""
    names = "|".join(re.escape(old) for old in sorted(plan.moves, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])bot([./])({names})(?![\w])")
    targets = tuple(
        sep.join(["bot", *new.split(".")]) for new in plan.moves.values() for sep in "./"
    )
    text = path.read_text(encoding="utf-8")
    found = []
    if path.suffix == ".py":
        tree = ast.parse(text)
        for node in ast.walk(tree):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                where = Path(*module.split("."))
                if module.startswith("bot.") and not (
                    where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()
                ):
                    found.append(f"{path}:{node.lineno}: no module {module}")
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        pieces = [
            (tok.start[0], piece)
            for tok in tokens
            if tok.type in (tokenize.STRING, tokenize.COMMENT)
            for piece, field in _pieces(tok.string)
            if not field
        ]
    else:
        pieces = list(enumerate(text.splitlines(), 1))
    for number, piece in pieces:
        for match in pattern.finditer(piece):
            if not piece[match.start() :].startswith(targets):
                found.append(f"{path}:{number}: {match.group(0)} left as it was")
    return found


def run(*command: str, check: bool = True) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def fail(message: str) -> int:
    print(f"reorganise: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
