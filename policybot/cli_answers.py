"""``policybot answers ...``: approved answers from the command line.

A reviewer approves the reply they wrote on a case (or a new text) for its question, with
the clauses it rests on; later questions close in meaning are answered with it (see
``bot/approved/service.py``). The reviewer names themself with ``--by`` and is checked against the
team's reviewers and the admins like anywhere else. These commands need no search
libraries: the clauses are read from the live build's files.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.approved.clauses import current_clauses
from bot.approved.views import ApprovedView, approved_receipt
from bot.models import TEAM_NAMES
from policybot.cli_cases import By, CaseId, JsonFlag, TeamOption, _casework, _echo_json

AnswerId = Annotated[str, typer.Argument(help="The approved answer's id, e.g. A-0003.")]
TextOption = Annotated[
    str | None,
    typer.Option("--text", help="The text to approve (default: the latest reply on the case)."),
]


def register(app: typer.Typer) -> None:
    """Add ``answers approve|list|show|retire|reinstate`` to ``app``."""
    answers = typer.Typer(
        help="Approved answers: reviewers' replies served again for questions like theirs.",
        no_args_is_help=True,
    )
    for name, command in (
        ("approve", approve),
        ("list", list_answers),
        ("show", show),
        ("retire", retire),
        ("reinstate", reinstate),
    ):
        answers.command(name)(command)
    app.add_typer(answers, name="answers")


def approve(
    case_id: CaseId,
    by: By,
    text: TextOption = None,
    question: Annotated[
        str | None,
        typer.Option("--question", help="The question, worded generally (default: the case's)."),
    ] = None,
    clause: Annotated[
        list[str] | None,
        typer.Option(
            "--clause",
            help="A clause it rests on, DOC:SECTION (repeatable; default: those the bot cited).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Save the reply on a case (or --text) as the approved answer to its question."""
    with _casework() as work:
        live = current_clauses(work.settings.index_dir)
        case = work.cases.get(case_id)
        view = work.approved.approve(
            case, by=by, live=live, text=text, question=question, clauses=tuple(clause or ())
        )
    _echo(view, approved_receipt(view), as_json)


def list_answers(
    team: TeamOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help="active, suspended or retired.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List approved answers, oldest first."""
    with _casework() as work:
        views = work.approved.list(team, status)
    if as_json:
        _echo_json([view.to_json() for view in views])
        return
    if not views:
        typer.echo("No approved answers.")
    for view in views:
        clauses = ", ".join(f"{c.source} {c.section}" for c in view.clauses)
        typer.echo(f"{view.id}  {view.status:<9}  {view.team:<14}  {view.question[:60]}")
        typer.echo(f"{'':>8}rests on {clauses}; approved by {view.approved_by}")


def show(answer_id: AnswerId, as_json: JsonFlag = False) -> None:
    """Show one approved answer: its question, text, clauses and status."""
    with _casework() as work:
        view = work.approved.get(answer_id)
    _echo(view, "\n".join(lines(view)), as_json)


def retire(
    answer_id: AnswerId,
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Withdraw an approved answer: it is no longer served."""
    with _casework() as work:
        view = work.approved.retire(answer_id, by=by, reason=reason)
    _echo(view, f"{view.id} retired: it is no longer served.", as_json)


def reinstate(
    answer_id: AnswerId, by: By, text: TextOption = None, as_json: JsonFlag = False
) -> None:
    """Re-approve a suspended or retired answer after review, against the clauses as they
    now stand (optionally with a new --text)."""
    with _casework() as work:
        live = current_clauses(work.settings.index_dir)
        view = work.approved.reinstate(answer_id, by=by, live=live, text=text)
    _echo(view, approved_receipt(view), as_json)


def lines(view: ApprovedView) -> list[str]:
    """An approved answer as plain lines."""
    out = [
        f"{view.id} ({view.status}) of the {TEAM_NAMES[view.team]}",
        f"Approved by {view.approved_by} on {view.approved_at:%Y-%m-%d %H:%M} UTC"
        + (f", from case {view.case_id}" if view.case_id else ""),
    ]
    if view.reason:
        out.append(f"Note: {view.reason}")
    out += ["", f"Question: {view.question}", "", view.text, "", "Rests on:"]
    out += [f"  {c.source} {c.section} ({c.title}): {c.text[:200]}" for c in view.clauses]
    return out


def _echo(view: ApprovedView, message: str, as_json: bool) -> None:
    if as_json:
        _echo_json(view.to_json())
    else:
        typer.echo(message)
