"""The contract run: schemathesis against a live server, every operation, as an admin.

`python -m tests.support.contract sqlite|postgresql` (or `make contract`) migrates a
throw-away database, serves it with uvicorn, records a small story through the API so
generated requests find something, and runs schemathesis with the four checks the
OpenAPI document must pass: no 5xx, only documented statuses, the documented content
types, and bodies that match the documented schemas (the `Problem` schema for errors).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.database import DEFAULT_POSTGRES, PostgresServer, migrate
from tests.support.live_server import serve

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# Enough to reach every documented status of every operation while keeping the run to a
# couple of minutes on two cores (it runs twice in .ci/run: SQLite and PostgreSQL).
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "15"))
SEED = os.environ.get("CONTRACT_SEED", "20261201")
REVOKE = "/revoke$"


@contextlib.contextmanager
def migrated_database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "postgresql":
        server = PostgresServer(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES))
        url = server.create()
        rendered = url.render_as_string(hide_password=False)
        try:
            migrate(rendered)
            yield rendered
        finally:
            server.drop(url)
            server.admin.dispose()
    else:
        url = f"sqlite:///{folder / 'contract.db'}"
        migrate(url)
        yield url


def record_story(client: httpx.Client) -> None:
    """An open campaign with money, goods, a pledge and an allocation, for ids to hit."""

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        response = client.post(path, json=body)
        response.raise_for_status()
        result: dict[str, object] = response.json()
        return result

    code = "ky-son-flood-2022"
    post("/v1/campaigns", {"code": code, "title": "Ủng hộ đồng bào Kỳ Sơn", "kind": "flood"})
    client.patch(f"/v1/campaigns/{code}", json={"status": "open"}).raise_for_status()
    donor = post("/v1/donors", {"name": "Nguyễn Văn An", "kind": "individual"})
    place = post("/v1/locations", {"name": "Huyện Kỳ Sơn", "level": "district"})
    post("/v1/items", {"code": "breeding-goat", "name": "Dê giống", "unit": "con"})
    post(f"/v1/campaigns/{code}/pledges", {"donor_id": donor["id"], "amount": "1000000"})
    body = {"amount": "500000", "received_on": "2022-10-05", "method": "bank_transfer"}
    post(f"/v1/campaigns/{code}/contributions", body)
    allocation = {"location_id": place["id"], "amount": "100000", "purpose": "Hỗ trợ làm nhà"}
    post(f"/v1/campaigns/{code}/allocations", allocation)
    post("/v1/units", {"code": "nghe-an", "name": "Ủy ban MTTQ tỉnh Nghệ An"})


def main(backend: str) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="relief-contract-") as folder,
        migrated_database(backend, Path(folder)) as url,
        serve(url, Path(folder) / "uvicorn.log") as server,
    ):
        with httpx.Client(base_url=server.base_url, headers=server.headers) as client:
            record_story(client)
        base = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server.base_url}/openapi.json",
            "--checks",
            CHECKS,
            "--header",
            f"Authorization:{server.headers['Authorization']}",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            SEED,
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--suppress-health-check",
            "all",
            "--no-color",
        ]
        # Key revocation last, on its own: it may well revoke the run's own key, after
        # which every other operation would only ever answer 401.
        for part in (["--exclude-path-regex", REVOKE], ["--include-path-regex", REVOKE]):
            print(f"contract on {backend}: schemathesis run {' '.join(part)}", flush=True)
            # In the throw-away folder: schemathesis keeps its cache in the working directory.
            result = subprocess.run([*base, *part], check=False, cwd=folder)
            if result.returncode != 0:
                print(server.log()[-5000:], file=sys.stderr)
                return result.returncode
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite"))
