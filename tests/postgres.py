"""A throwaway PostgreSQL server for the test run, or the one ``POLICYBOT_TEST_DATABASE_URL`` names.

The server is a fresh cluster (``initdb``) in a temporary directory, started with ``pg_ctl`` on
a free loopback port with durability off (it is thrown away). PostgreSQL refuses to run as
root, so as root the cluster belongs to the ``postgres`` system user and its commands run
through ``runuser``. ``.ci/ensure-postgres`` installs the binaries when they are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``.

    Raises:
        PostgresUnavailable: none found.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    # Debian and Ubuntu keep the server binaries out of PATH, one directory per major version.
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _major(p.parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailable("no initdb/pg_ctl found (run .ci/ensure-postgres to install them)")


def _major(name: str) -> int:
    return int(name) if re.fullmatch(r"\d+", name) else -1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for the servers tests start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway server; :meth:`stop` removes it and its files."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="policybot-pg-")))
    port: int = field(default_factory=free_port)
    _run_as: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """initdb and start; raises :class:`PostgresUnavailable` with the server's words."""
        if os.geteuid() == 0:
            self._become_server_user()
        data = self.root / "data"
        self._run(
            "initdb", "-D", str(data), "-U", SERVER_USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.root / "server.log"
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"
        )

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _become_server_user(self) -> None:
        import pwd

        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root and there is no {SERVER_USER!r} user to run the server as"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailable("running as root and runuser is missing")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run_as = [runuser, "-u", SERVER_USER, "--"]

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [*self._run_as, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if check and done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}"
            )


def start_server() -> PostgresServer:
    """Start a throwaway server.

    Raises:
        PostgresUnavailable: no binaries, or the server would not start.
    """
    server = PostgresServer(find_bindir())
    try:
        server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        server.stop()
        raise PostgresUnavailable(str(exc)) from exc
    return server


def create_schema(base_url: str, schema: str) -> str:
    """Create ``schema`` and return a URL whose connections use it (``search_path``)."""
    from sqlalchemy.engine import make_url

    admin_sql(base_url, f'CREATE SCHEMA "{schema}"')
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def admin_sql(base_url: str, statement: str) -> None:
    """Run one statement on the server, outside any transaction."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]
