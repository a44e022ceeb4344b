"""How a benchmark command runs: in a child process, against a PostgreSQL database of its own
(created here and dropped afterwards, or an existing empty one from `--database-url`), so the
numbers are not mixed with the configured database or with this process's state."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import CommandError


def run_in_own_database(command: str, options: dict, inner_arguments: list[str], env: dict[str, str]) -> str:
    """Run `manage.py <command> --inner <inner_arguments>` in a fresh database; return the last
    line it printed (the benchmark's JSON). `env` is laid over this process's environment."""
    server = dict(settings.DATABASES["default"])
    if "postgresql" not in server["ENGINE"]:
        raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to a PostgreSQL server.")
    created = None
    if options["database_url"]:
        url = options["database_url"]
    else:
        name = options["database_name"]
        if name == server["NAME"]:
            raise CommandError("Refusing to benchmark in the configured database; pick another --database-name.")
        created = name
        admin(server, f'DROP DATABASE IF EXISTS "{name}"')
        admin(server, f'CREATE DATABASE "{name}"')
        url = database_url(server, name)
    try:
        child_env = {**os.environ, "DATABASE_URL": url, "DB_CONN_MAX_AGE": "0", **env}
        child_env.pop("REDIS_URL", None)  # the benchmarks measure the database work, not the broker
        child = subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), command, "--inner", *inner_arguments],
            env=child_env,
            capture_output=True,
            text=True,
        )
        if child.returncode != 0:
            raise CommandError(f"The benchmark failed:\n{child.stderr[-4000:]}")
        return child.stdout.strip().splitlines()[-1]
    finally:
        if created and not options["keep"]:
            admin(server, f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def database_url(server: dict, name: str) -> str:
    user = server.get("USER") or "postgres"
    password = f":{server['PASSWORD']}" if server.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{server.get('HOST') or '127.0.0.1'}:{server.get('PORT') or 5432}/{name}"


def admin(server: dict, statement: str) -> None:
    with psycopg.connect(
        database_url(server, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True
    ) as connection:
        connection.execute(statement)
