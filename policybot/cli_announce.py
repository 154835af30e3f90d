"""``policybot announce``: preview the announcement of the policy changes, confirm it.

Confirming queues the post for the announcement channels and the direct messages to the staff
the changes concern in the outbox; ``policybot serve`` delivers them. The admin names themself
with ``--by`` and is checked against ``POLICYBOT_ADMINS`` in the core, as in Slack and Teams.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from policybot.cli_cases import QUEUED, _casework


def announce(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Announce every change after this knowledge version "
            "(default: since the last announcement).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who announces: an admin's platform:user id (to confirm)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm without asking.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Preview the announcement of the policy changes, then confirm it: a post in the
    announcement channels and a direct message to the staff whose answers rested on a clause
    that changed."""
    if yes and not by:
        typer.echo("error: --by is needed to announce: an admin's platform:user id", err=True)
        raise typer.Exit(2)
    with _casework() as work:
        preview = work.announcements.preview(since, by=by)
        news = bool(preview.changes) and not preview.announced
        if not as_json:
            typer.echo(preview.summary())
        if not news:
            if as_json:
                typer.echo(json.dumps(preview.to_json(), ensure_ascii=False, indent=2))
            return
        if not by:  # a preview only
            _show(preview.to_json() if as_json else None)
            typer.echo("To announce it: policybot announce --by ADMIN-ID", err=True)
            return
        if not yes and not typer.confirm("Announce it?", default=False, err=True):
            from bot.cases.announcements import CANCELLED  # SQLAlchemy: not for `policybot ask`

            _show(preview.to_json() if as_json else None, CANCELLED)
            return
        done = work.announcements.confirm(by, since=preview.since, version=preview.version)
    if as_json:
        typer.echo(json.dumps(done.to_json(), ensure_ascii=False, indent=2))
    else:
        what = "the post and the direct messages"
        typer.echo(f"{done.summary()} {QUEUED.format(what=what).capitalize()}.")


def _show(data: dict[str, object] | None, message: str = "") -> None:
    if data is not None:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif message:
        typer.echo(message)
