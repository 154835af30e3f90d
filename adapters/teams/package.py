"""``policybot teams-package``: the zip an admin uploads to Teams.

The zip holds ``manifest.json`` (the template in ``manifest/teams/`` with the app id, the
version and the bot's domain filled in) and the two icons, all at its root, as Teams requires.
This module needs only the standard library and typer: the CLI imports it at start-up.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
ICONS = ("color.png", "outline.png")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(:\d{1,5})?$")
_PLACEHOLDER = re.compile(r"\$\{\{(\w+)\}\}")


def fill_manifest(template: dict[str, Any], *, app_id: str, version: str, domain: str) -> Any:
    """The manifest with its ``${{NAME}}`` placeholders filled.

    Args:
        template: the parsed ``manifest.json`` template.
        app_id: the bot's Microsoft app id (a GUID); it is also the Teams app id.
        version: the app version Teams shows (it must grow with each upload).
        domain: the bot's public host name, or ``""`` for no valid domain.

    Raises:
        ValueError: a placeholder the template uses is unknown.
    """
    values = {"APP_ID": app_id, "VERSION": version, "BOT_DOMAIN": domain}

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            # A list entry that is only an empty placeholder (no domain given) is dropped.
            return [item for item in map(fill, node) if item != ""]
        if isinstance(node, str):
            return _PLACEHOLDER.sub(lambda match: _value(values, match.group(1)), node)
        return node

    return fill(template)


def _value(values: dict[str, str], name: str) -> str:
    if name not in values:
        raise ValueError(f"manifest.json uses an unknown placeholder ${{{{{name}}}}}")
    return values[name]


def build_package(
    app_id: str, output: Path, *, domain: str = "", manifest_dir: Path = MANIFEST_DIR
) -> Path:
    """Write the uploadable Teams app package.

    Args:
        app_id: the bot's Microsoft app id, a GUID.
        output: the zip file to write.
        domain: the bot's public host name (``bot.example.gov.uk``), for ``validDomains``.
        manifest_dir: where ``manifest.json`` and the icons are.

    Returns:
        The path written.

    Raises:
        ValueError: the app id is not a GUID, the domain is not a host name, or the
            template or an icon is missing.
    """
    try:
        app_id = str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise ValueError(f"the app id must be a GUID, not {app_id!r}") from None
    domain = domain.strip().lower()
    if domain and not _DOMAIN.match(domain):
        raise ValueError(f"--domain takes a host name such as bot.example.gov.uk, not {domain!r}")
    missing = [n for n in ("manifest.json", *ICONS) if not (manifest_dir / n).is_file()]
    if missing:
        raise ValueError(f"{manifest_dir} lacks {', '.join(missing)}")
    template = json.loads((manifest_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest = fill_manifest(template, app_id=app_id, version=_version(), domain=domain)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in ICONS:
            archive.write(manifest_dir / name, arcname=name)
    return output


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("policybot")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "1.0.0"


def teams_package(
    app_id: Annotated[
        str, typer.Option("--app-id", help="The bot's Microsoft app id (MICROSOFT_APP_ID).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The zip to write.")] = Path(
        "policybot-teams.zip"
    ),
    domain: Annotated[
        str, typer.Option("--domain", help="The bot's public host name, for validDomains.")
    ] = "",
    manifest_dir: Annotated[
        Path, typer.Option("--manifest-dir", help="Where manifest.json and the icons are.")
    ] = MANIFEST_DIR,
) -> None:
    """Write the Teams app package (manifest and icons) to upload in Teams or its admin centre."""
    try:
        written = build_package(app_id, output, domain=domain, manifest_dir=manifest_dir)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Wrote {written}: upload it in Teams (Apps > Manage your apps > Upload an app).")
