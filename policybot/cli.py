"""The ``policybot`` command line."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from adapters.teams.package import teams_package  # stdlib and typer only: cheap to import
from bot.config import Settings, read_env_file
from bot.errors import IndexNotBuiltError, PolicyBotError
from policybot import cli_announce, cli_answers, cli_cases, logs
from policybot.logs import LogFormat

if TYPE_CHECKING:
    from bot.engine import PolicyBot
    from bot.reload.report import ReloadReport

app = typer.Typer(
    name="policybot",
    help="Answers staff questions about the Electronic Communication and Social Media Policy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
log = logging.getLogger("policybot")


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="POLICYBOT_LOG_FORMAT",
            help="text, or json: one JSON object per line, for log collectors.",
        ),
    ] = LogFormat.TEXT,
) -> None:
    logs.configure(verbose=verbose, form=log_format)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn PolicyBot errors into a message on stderr and exit status 1, no traceback."""
    try:
        yield
    except PolicyBotError as exc:
        message = str(exc) if exc.safe_message else f"{type(exc).__name__}: {exc}"
        err.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(1) from None


def make_bot() -> PolicyBot:
    from bot.engine import PolicyBot  # numerical libraries: only for commands that answer

    return PolicyBot(Settings.from_env())


def serve_approved(bot: PolicyBot, settings: Settings) -> Callable[[], None]:
    """Let the engine serve approved answers from the database (``ask``, ``eval``); returns
    what closes the database. Without a database, or with no approved answer in it, the
    documents answer alone.

    Read only: the database is neither migrated nor written (answers resting on a changed
    clause are not served, and are suspended by the server or the next reload); when it holds
    no approved answer, SQLAlchemy is not even loaded (:mod:`bot.approved.presence`).
    """
    from bot.approved.presence import may_have_answers

    if not may_have_answers(settings):
        return lambda: None
    from bot.approved.match import ApprovedMatcher
    from bot.approved.service import ApprovedAnswers
    from bot.storage.db import Database

    try:
        db = Database.open(settings, migrate=False)
    except Exception as exc:  # answering matters more; say why approved answers are off
        err.print(f"approved answers are off: the database cannot be opened ({exc})")
        return lambda: None
    answers = ApprovedAnswers(db, settings)
    try:
        count, _ = answers.version()
    except Exception as exc:  # e.g. a database never migrated: nothing to serve from it
        db.close()
        err.print(f"approved answers are off: the database cannot be read ({exc})")
        return lambda: None
    if not count:
        db.close()
        return lambda: None
    bot.approved = ApprovedMatcher(lambda: answers, suspend=False)
    return db.close


@contextmanager
def _reload_lease(settings: Settings) -> Iterator[None]:
    """Hold the reload lease every instance on the database honours (bot.reload.lease);
    without a database, the index's own lock only."""
    from bot.reload.lease import reload_lease
    from bot.storage.db import Database

    try:
        db: Database | None = Database.open(settings)
    except Exception as exc:
        log.warning("the database cannot be opened (%s): reloading without its lease", exc)
        db = None
    try:
        with reload_lease(db):
            yield
    finally:
        if db is not None:
            db.close()


def _progress_reload(bot: PolicyBot, knowledge: Path | None) -> ReloadReport:
    """Reload, one reload at a time on every instance, with a progress bar when stderr is
    a terminal."""
    with _reload_lease(bot.settings):
        return _reload(bot, knowledge)


def _reload(bot: PolicyBot, knowledge: Path | None) -> ReloadReport:
    if not err.is_terminal:
        return bot.reload_documents(knowledge_dir=knowledge)
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Embedding clauses", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return bot.reload_documents(knowledge_dir=knowledge, progress=progress)


def ensure_index(bot: PolicyBot) -> None:
    """Build the index on first use, so that a fresh install answers straight away."""
    try:
        bot.retriever()
    except IndexNotBuiltError:
        err.print("No index yet: indexing the policy documents first.", highlight=False)
        report = _progress_reload(bot, None)
        err.print(report.summary(), highlight=False)


@app.command()
def reload(
    knowledge: Annotated[
        Path | None, typer.Option("--knowledge", help="Directory to index (default: knowledge/).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index the policy documents (atomic: the old index serves until the new one is whole)."""
    with _errors():
        report = _progress_reload(make_bot(), knowledge)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
    else:
        typer.echo(report.summary())


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the configuration and every service it names; exit 1 if any check fails."""
    from adapters.slack import doctor_check as slack_check
    from adapters.teams import doctor_check as teams_check
    from bot.ops import doctor as checks

    with _errors():
        settings = Settings.from_env()
    probes = [*checks.core_probes(), ("slack", slack_check), ("teams", teams_check)]
    results = checks.run(settings, probes)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], indent=2))
    else:
        for result in results:
            typer.echo(result.line())
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(help="A new directory for the copy.")],
) -> None:
    """Copy the data directory (database, audit key, live index) while the bot runs."""
    from bot.ops.backup import backup as take_backup

    with _errors():
        report = take_backup(Settings.from_env(), target)
    typer.echo(report.summary())


@app.command()
def insights(
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (YYYY-MM-DD); default: all.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="md, json, or html (one file with charts).")
    ] = "md",
) -> None:
    """What staff ask, where the documents fail them, and how fast cases are answered."""
    from datetime import UTC, datetime

    from bot.ops.insights import gather, markdown
    from bot.storage.db import Database

    if fmt not in {"md", "json", "html"}:
        err.print(
            f"[red]error:[/red] unknown format {fmt!r}: use md, json or html", highlight=False
        )
        raise typer.Exit(1)
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        err.print(f"[red]error:[/red] {since!r} is not a date (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(1) from None
    with _errors():
        settings = Settings.from_env()
        bot = make_bot()
        db = Database.open(settings)
        try:
            report = gather(db, bot.index.embedder.embed, start)
        finally:
            db.close()
    if fmt == "json":
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    elif fmt == "html":
        from bot.ops.insights_html import render

        typer.echo(render(report), nl=False)
    else:
        typer.echo(markdown(report), nl=False)


@app.command()
def changes(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Every change after this knowledge version (default: the last reload's).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
) -> None:
    """The clauses the last reload (or every reload since a version) added, removed and
    changed, with the words that changed."""
    from bot.knowledge.changes import markdown, read_log

    if fmt not in {"md", "json", "html"}:
        err.print(
            f"[red]error:[/red] unknown format {fmt!r}: use md, json or html", highlight=False
        )
        raise typer.Exit(1)
    try:
        sets = read_log(Settings.from_env().index_dir, since)
    except LookupError as exc:
        err.print(f"[red]error:[/red] {exc.args[0]}", highlight=False)
        raise typer.Exit(1) from None
    if fmt == "json":
        typer.echo(json.dumps([s.to_json() for s in sets], ensure_ascii=False, indent=2))
    else:
        typer.echo(markdown(sets), nl=False)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read questions from stdin, one per line.")
    ] = False,
) -> None:
    """Answer a question from the policy documents (or a reviewer's approved answer)."""
    with _errors():
        if question is None and not jsonl:
            raise PolicyBotError(
                'Give a question, e.g. policybot ask "Can I use Facebook at lunch?"'
            )
        bot = make_bot()
        ensure_index(bot)
        close = serve_approved(bot, bot.settings)
        try:
            if jsonl:
                for line in sys.stdin:
                    answer = bot.ask(line.rstrip("\n"))
                    typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
                return
            answer = bot.ask(question or "")
        finally:
            close()
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        from adapters.console import render

        Console().print(render(answer))


@app.command()
def chat() -> None:
    """Chat with PolicyBot in the terminal (/escalate and /feedback included)."""
    import getpass

    from adapters.console import ConsoleChat
    from bot.assistant import Assistant

    with _errors():
        assistant = Assistant.open(Settings.from_env())
        ensure_index(assistant.engine)
        try:
            ConsoleChat(assistant, user=f"cli:{getpass.getuser()}").run()
        finally:
            assistant.close()


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default POLICYBOT_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default POLICYBOT_PORT or 8080).")
    ] = None,
) -> None:
    """Run the HTTP server: Slack and Teams endpoints, /healthz and /admin/reload."""
    from bot.assistant import Assistant

    try:
        from adapters.server import serve as run_server
    except ImportError as exc:  # the platform SDKs are regular dependencies; say what broke
        err.print(f"[red]error:[/red] cannot start the server: {exc}", highlight=False)
        raise typer.Exit(1) from None
    with _errors():
        settings = Settings.from_env()
        if "slack" in settings.platforms:
            settings.slack  # noqa: B018 - a Slack set-up that cannot work is told before serving
        assistant = Assistant.open(settings)
        ensure_index(assistant.engine)
        host, port = host or settings.host, port or settings.port
        for line in assistant.summary():
            logs.tell(line)
        logs.tell(f"PolicyBot serving on http://{host}:{port} (Ctrl-C stops it)")
        try:
            run_server(assistant, host=host, port=port)
        finally:
            assistant.close()


@app.command()
def run() -> None:
    """Start the bot: the chat platforms when their credentials are set, else the console."""
    with _errors():
        platforms = Settings.from_env().platforms
    if platforms:
        serve(host=None, port=None)
    else:
        chat()


@app.command("eval")
def evaluate(
    file: Annotated[
        Path, typer.Argument(help="Questions, one JSON object per line, or a directory of them.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    failures: Annotated[bool, typer.Option("--failures", help="List what went wrong.")] = False,
    no_context: Annotated[
        bool,
        typer.Option(
            "--no-context", help="Ask a conversation's last turn alone, without its context."
        ),
    ] = False,
) -> None:
    """Measure retrieval, answers, routing and latency on a question set, with 95% intervals
    and a breakdown by kind, document and voice (and, for conversations, by whether the last
    turn depends on the earlier ones)."""
    from bot.ops import evaluation

    with _errors():
        cases = evaluation.read_cases(file)
        bot = make_bot()
        ensure_index(bot)
        close = serve_approved(bot, bot.settings)
        try:
            report = evaluation.run(bot, cases, context=not no_context)
        finally:
            close()
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        typer.echo("\n".join(report.lines()))
    if failures:
        for failure in report.failures:
            typer.echo(json.dumps(failure, ensure_ascii=False))


cli_cases.register(app)
app.command("announce")(cli_announce.announce)
cli_answers.register(app)
app.command("teams-package")(teams_package)


def main() -> None:
    read_env_file()
    app()
