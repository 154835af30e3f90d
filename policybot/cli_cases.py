"""``policybot escalations ...``, ``feedback``, ``audit``, ``purge`` and ``remind``.

:func:`register` adds these commands to the ``policybot`` typer app. The command line has no
chat platform: notifications (a new case for the team, a reply for the asker, a reminder) are
queued in the outbox and delivered by ``policybot serve``; every command that queues one says
so. A reviewer acting here names themself with ``--by`` and is checked against
``POLICYBOT_HR_REVIEWERS``, ``POLICYBOT_COMMS_REVIEWERS`` and ``POLICYBOT_ADMINS`` like
anywhere else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from bot.config import Settings, read_env_file
from bot.errors import PolicyBotError
from bot.models import TEAM_NAMES
from policybot import cli_render as render

if TYPE_CHECKING:
    from bot.case_views import CaseView
    from bot.cases.casework import Casework

# The database libraries load inside the commands: `policybot ask` registers these
# commands but must not pay for importing SQLAlchemy.

QUEUED = "queued for delivery ({what}; `policybot serve` delivers it)"

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
By = Annotated[
    str, typer.Option("--by", help="Who acts: a reviewer's or admin's platform:user id.")
]
CaseId = Annotated[str, typer.Argument(help="The case id, e.g. HR-0042.")]
TeamOption = Annotated[
    str | None, typer.Option("--team", help="hr or communications.", show_default=False)
]


def register(app: typer.Typer) -> None:
    """Add the escalation, feedback, audit, purge and remind commands to ``app``."""
    escalations = typer.Typer(
        help="Cases handed to HR or Communications: open, list, act on, export.",
        no_args_is_help=True,
    )
    for name, command in (
        ("open", open_case),
        ("list", list_cases),
        ("show", show_case),
        ("claim", claim_case),
        ("reply", reply_case),
        ("resolve", resolve_case),
        ("reopen", reopen_case),
        ("note", note_case),
        ("export", export_cases),
        ("deliveries", deliveries),
    ):
        escalations.command(name)(command)
    app.add_typer(escalations, name="escalations")
    app.command("feedback")(feedback)
    app.command("audit")(audit)
    app.command("purge")(purge)
    app.command("remind")(remind)


@contextmanager
def _casework() -> Iterator[Casework]:
    """The services, with every expected failure turned into one line on stderr, exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.cases.casework import Casework

    work: Casework | None = None
    try:
        work = Casework.open(Settings.from_env())
        yield work
    except PolicyBotError as exc:
        _fail(str(exc) if exc.safe_message else f"{type(exc).__name__}: {exc}")
    except SQLAlchemyError as exc:
        _fail(f"database error: {_first_line(exc)}")
    except OSError as exc:
        _fail(f"cannot use the data directory: {exc}")
    finally:
        if work is not None:
            work.close()


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _first_line(exc: Exception) -> str:
    # The driver's first line says what went wrong (refused, no such database) without the
    # SQL, the parameters or the password that SQLAlchemy's own message may carry.
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _echo_case(case: CaseView, message: str, as_json: bool) -> None:
    if as_json:
        _echo_json(case.to_json())
    else:
        typer.echo(message)


def open_case(
    question: Annotated[str, typer.Argument(help="The question, as the asker put it.")],
    team: Annotated[str, typer.Option("--team", help="hr or communications.")],
    asker: Annotated[str, typer.Option("--asker", help="The asker's platform:user id.")],
    name: Annotated[str, typer.Option("--name", help="The asker's name.")] = "",
    note: Annotated[str, typer.Option("--note", help="Anything the team should know.")] = "",
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Withhold the asker's identity from reviewers.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Open a case, e.g. one logged from a phone call or an email."""
    from bot.cases.service import CaseRequest

    with _casework() as work:
        request = CaseRequest(
            team=team,
            asker=asker,
            question=question,
            display_name=name,
            note=note,
            anonymous=anonymous,
        )
        case = work.cases.open(request)
    what = f"announcement to the {TEAM_NAMES[case.team]}"
    _echo_case(case, f"Opened {case.id}; {QUEUED.format(what=what)}.", as_json)


def list_cases(
    team: TeamOption = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="open, claimed, answered, resolved or reopened."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List cases, oldest first."""
    with _casework() as work:
        cases = work.cases.list(team, status)
    if as_json:
        _echo_json([case.to_json() for case in cases])
    else:
        typer.echo("\n".join(render.case_table(cases)))


def show_case(case_id: CaseId, as_json: JsonFlag = False) -> None:
    """Show a case and its history (who did what, when)."""
    with _casework() as work:
        case = work.cases.get(case_id)
    _echo_case(case, "\n".join(render.case_lines(case)), as_json)


def claim_case(case_id: CaseId, by: By, as_json: JsonFlag = False) -> None:
    """Claim a case: the team sees you have it."""
    with _casework() as work:
        case = work.cases.claim(case_id, by=by)
    _echo_case(case, f"{case.id} claimed by {case.claimed_by}.", as_json)


def reply_case(
    case_id: CaseId,
    text: Annotated[str, typer.Argument(help="The reply to the asker.")],
    by: By,
    as_json: JsonFlag = False,
) -> None:
    """Reply to the asker (delivered in their chat by `policybot serve`); a reply on an
    unclaimed case claims it for you."""
    from bot.cases.outbox import UNREACHABLE_PLATFORMS, unreachable_reason

    with _casework() as work:
        before = work.cases.get(case_id).claimed_by
        case = work.cases.reply(case_id, text, by=by)
    claimed = f" and claimed by {case.claimed_by}" if before is None else ""
    if case.platform in UNREACHABLE_PLATFORMS:
        message = f"Reply on {case.id} recorded{claimed}; {unreachable_reason(case.id)}."
    else:
        message = (
            f"Reply on {case.id} recorded{claimed}; {QUEUED.format(what='reply to the asker')}."
        )
    _echo_case(case, message, as_json)


def resolve_case(case_id: CaseId, by: By, as_json: JsonFlag = False) -> None:
    """Resolve a claimed or answered case."""
    with _casework() as work:
        case = work.cases.resolve(case_id, by=by)
    _echo_case(case, f"{case.id} resolved.", as_json)


def reopen_case(
    case_id: CaseId,
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why it is reopened.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Reopen an answered or resolved case: it goes back to the team's queue."""
    with _casework() as work:
        case = work.cases.reopen(case_id, by=by, reason=reason)
    what = f"announcement to the {TEAM_NAMES[case.team]}"
    _echo_case(case, f"{case.id} reopened; {QUEUED.format(what=what)}.", as_json)


def note_case(
    case_id: CaseId,
    text: Annotated[str, typer.Argument(help="The note (for the team only).")],
    by: By,
    as_json: JsonFlag = False,
) -> None:
    """Add an internal note to a case; the asker never sees it."""
    with _casework() as work:
        case = work.cases.add_note(case_id, text, by=by)
    _echo_case(case, f"Note added to {case.id}.", as_json)


def export_cases(
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    team: TeamOption = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
) -> None:
    """Export cases with their history to stdout."""
    if fmt not in {"csv", "json"}:
        _fail(f"unknown format {fmt!r}: use csv or json")
    with _casework() as work:
        cases = work.cases.list(team, status)
    if fmt == "json":
        _echo_json([case.to_json() for case in cases])
    else:
        render.write_cases_csv(cases, sys.stdout)


def deliveries(as_json: JsonFlag = False) -> None:
    """List notifications still waiting for delivery (and why, if a try failed), and those no
    chat platform can deliver (a reply to an asker who used the command line)."""
    with _casework() as work:
        listed = work.outbox.pending(undeliverable=True)
    rows = [
        {
            "id": item.id,
            "kind": item.kind,
            "case": item.case_id,
            "status": item.status,
            "attempts": item.attempts,
            "last_error": item.last_error,
            "next_attempt_at": item.next_attempt_at.isoformat(),
        }
        for item in listed
    ]
    if as_json:
        _echo_json(rows)
        return
    waiting = [row for row in rows if row["status"] == "pending"]
    typer.echo(f"{len(waiting)} notification(s) queued for delivery.")
    for row in waiting:
        error = f"  last error: {row['last_error']}" if row["last_error"] else ""
        case = f" {row['case']}" if row["case"] else ""  # announcements concern no case
        typer.echo(f"  #{row['id']} {row['kind']}{case} attempts={row['attempts']}{error}")
    for row in rows:
        if row["status"] != "pending":
            reason = row["last_error"]
            typer.echo(f"  #{row['id']} {row['kind']} {row['case']} undeliverable: {reason}")


def feedback(as_json: JsonFlag = False) -> None:
    """Show helpful / not helpful counts and the comments staff left."""
    with _casework() as work:
        summary = work.feedback.summary()
    if as_json:
        _echo_json(summary.to_json())
    else:
        typer.echo("\n".join(render.feedback_lines(summary)))


def audit(
    since: Annotated[
        str | None, typer.Option("--since", help="Only from this date (ISO 8601, UTC).")
    ] = None,
    as_json: JsonFlag = False,
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
) -> None:
    """Show the audit trail: every question, the answer and its knowledge version."""
    fmt = "json" if as_json else fmt
    if fmt not in {"text", "json", "csv"}:
        _fail(f"unknown format {fmt!r}: use text, json or csv")
    start = _parse_since(since) if since else None
    with _casework() as work:
        entries = work.audit.entries(start)
    if fmt == "json":
        _echo_json([entry.to_json() for entry in entries])
    elif fmt == "csv":
        from bot.audit.trail import write_csv

        write_csv(entries, sys.stdout)
    else:
        typer.echo("\n".join(render.audit_lines(entries)))


def purge() -> None:
    """Delete audit rows, feedback and delivered notifications past POLICYBOT_RETENTION_DAYS."""
    with _casework() as work:
        result = work.purge()
        days = work.settings.retention_days
    if result.cutoff is None:
        typer.echo("POLICYBOT_RETENTION_DAYS is 0: records are kept, nothing was purged.")
        return
    typer.echo(
        f"Purged records older than {days:g} days (before {render.when(result.cutoff)}): "
        f"{result.audit} audit, {result.feedback} feedback, {result.deliveries} delivered "
        "notifications. Cases are kept."
    )


def remind() -> None:
    """Queue reminders for cases nobody has claimed within POLICYBOT_SLA_HOURS."""
    with _casework() as work:
        reminded = work.remind()
        hours = work.settings.sla_hours
    if hours <= 0:
        typer.echo("POLICYBOT_SLA_HOURS is 0: reminders are off.")
    elif not reminded:
        typer.echo(f"No case has waited unclaimed for {hours:g} hours since its last reminder.")
    for team, refs in reminded.items():
        what = f"reminder to the {TEAM_NAMES[team]}"
        typer.echo(f"{', '.join(refs)}: {QUEUED.format(what=what)}.")


def _parse_since(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        _fail(f"--since {raw!r} is not a date: use e.g. 2026-01-31 or 2026-01-31T09:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> None:
    """Run these commands on their own (``python -m policybot.cli_cases``), without the engine."""
    read_env_file()
    app = typer.Typer(
        name="policybot", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )
    register(app)
    app()


if __name__ == "__main__":
    main()
