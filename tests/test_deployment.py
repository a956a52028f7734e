"""The production set-up without a Docker engine: docker-compose.yml parses and wires the
service to PostgreSQL with settings the service knows, the Dockerfile migrates and serves
as a non-root user, and the wheel the image installs carries app/'s package data."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import make_url

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_the_service_on_postgresql():
    compose = _compose()
    assert set(compose["services"]) == {"db", "app"}
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:")
    assert app["build"] == "."
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "/ready" in " ".join(app["healthcheck"]["test"])
    # The URL names the db service, its database and user, with the shared password.
    env = app["environment"]
    url = make_url(
        env["DATABASE_URL"].replace("${RELIEF_DB_PASSWORD:?set RELIEF_DB_PASSWORD}", "pw")
    )
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql+psycopg",
        "db",
        5432,
        db["environment"]["POSTGRES_DB"],
        db["environment"]["POSTGRES_USER"],
        "pw",
    )
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${RELIEF_DB_PASSWORD:?")
    # Every variable given to the service is one of its settings, with a valid value.
    fields = {name.upper() for name in Settings.model_fields}
    assert set(env) <= fields
    plain = {k: v for k, v in env.items() if "${" not in v}
    Settings(**{k.lower(): v for k, v in plain.items()})
    # Named volumes are declared; the signing key sits on one, where SIGNING_KEY_PATH says.
    used = {mount.split(":")[0] for service in (db, app) for mount in service.get("volumes", [])}
    assert used == set(compose["volumes"])
    (key_mount,) = app["volumes"]
    assert env["SIGNING_KEY_PATH"].startswith(key_mount.split(":")[1] + "/")
    # Published on the loopback only: a reverse proxy (TLS) stands in front.
    assert app["ports"] == ["127.0.0.1:8000:8000"]


def test_dockerfile_migrates_and_serves_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users == ["relief"]
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert "alembic upgrade head && exec uvicorn app.main:app" in cmd.group(1)
    assert "--no-access-log" in cmd.group(1)  # the service writes one access line itself
    for needed in ("COPY app ./app", "RUN pip install .", "COPY migrations ./migrations"):
        assert needed in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"relief-signing.key*", "*.db", ".venv", ".env"} <= set(ignored)


@pytest.mark.slow
def test_the_wheel_carries_the_package_data(tmp_path):
    # Build from a copy, with a data file planted beside the code as a package would keep
    # one (a template, a schema): the image installs exactly this wheel.
    source = tmp_path / "src"
    shutil.copytree(ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    planted = source / "app" / "locations" / "data" / "probe.json"
    planted.parent.mkdir()
    planted.write_text("{}")
    (source / "app" / "ledger" / "__pycache__").mkdir()
    (source / "app" / "ledger" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("relief_ledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(source).as_posix()
        for path in (source / "app").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - names == set()
    assert "app/locations/data/probe.json" in names
    assert not [name for name in names if name.endswith(".pyc")]


def test_every_setting_is_documented_in_operations():
    document = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [
        name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in document
    ]
    assert missing == []
