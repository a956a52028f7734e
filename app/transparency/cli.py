"""`relief checkpoint`, `relief signing-key`, `relief cosign` and `relief verify`.

Only Typer is imported here; each command imports what it needs when it runs, so
`relief --help` stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_common import ServerOption, TokenOption

signing_key_app = typer.Typer(help="The log's Ed25519 signing key, and auditors' cosigning keys.")
verify_app = typer.Typer(
    help="Check a receipt or two checkpoints offline: signature, inclusion, consistency."
)

KeyOption = Annotated[
    list[str],
    typer.Option(
        "--key",
        envvar="RELIEF_LOG_KEY",
        help="The log's vkey (`GET /v1/public/signing-key`, from a source you trust); "
        "repeat it to accept keys from before a rotation.",
    ),
]


CHECKPOINT_EPILOG = "\b\nExample:\n  relief checkpoint ky-son-flood-2022 --server URL --token KEY"
COSIGN_EPILOG = (
    "\b\nExample:\n  relief cosign ky-son-flood-2022 --key auditor.key "
    "--name kiemtoan.gov.vn/relief --server URL --token KEY"
)


def checkpoint(
    code: Annotated[str, typer.Argument(help="The campaign's code.")],
    server: ServerOption,
    token: TokenOption,
) -> None:
    """Sign the campaign's log now and print the checkpoint (officers and admins)."""
    import httpx

    from app import cli_common

    try:
        with cli_common.client(server, token) as client:
            response = client.post(f"/v1/campaigns/{code}/checkpoints")
    except httpx.TransportError as exc:
        cli_common.unreachable(server, exc)
    if response.status_code != 201:
        problem = cli_common.problem(response)
        cli_common.fail(f"{problem.get('code', response.status_code)}: {problem.get('detail')}")
    typer.echo(response.json()["note"], nl=False)


@signing_key_app.command(
    "create",
    epilog="\b\nExamples:\n"
    "  relief signing-key create                    # the log's key, at SIGNING_KEY_PATH\n"
    "  relief signing-key create --if-missing       # what `make run` does\n"
    "  relief signing-key create --rotate           # a new key; the old one stays published\n"
    "  relief signing-key create --auditor kiemtoan.gov.vn/relief --path auditor.key",
)
def create_signing_key(
    path: Annotated[
        Path | None, typer.Option(help="Where to write the key; default SIGNING_KEY_PATH.")
    ] = None,
    rotate: Annotated[
        bool, typer.Option(help="Move the current key aside and make a new one.")
    ] = False,
    if_missing: Annotated[
        bool, typer.Option(help="Do nothing (successfully) when the key exists.")
    ] = False,
    auditor: Annotated[
        str | None,
        typer.Option(help="Make an auditor's cosigning key with this name instead (needs --path)."),
    ] = None,
) -> None:
    """Write a new Ed25519 private key (mode 0600) and print its public vkey."""
    from app.transparency import signing
    from app.transparency.verify import COSIGNATURE_V1, Verifier

    if auditor is not None:
        if path is None:
            raise typer.BadParameter("an auditor's key needs --path")
        key = signing.write_new_key(path)
        public = key.public_key().public_bytes_raw()
        typer.echo(Verifier(auditor, COSIGNATURE_V1, public).vkey)
        return
    path = path or signing.key_path()
    if path.exists():
        if if_missing:
            return
        if not rotate:
            typer.echo(f"{path} exists: use --rotate to replace it.", err=True)
            raise typer.Exit(1)
        old = signing.load(path)
        assert old is not None
        retired = signing.retire(path, old.verifier)
        typer.echo(f"Retired {old.verifier.vkey} to {retired}.", err=True)
    signing.write_new_key(path)
    signer = signing.load(path)
    assert signer is not None
    typer.echo(f"Wrote {path} (mode 0600). Publish this verifier key:", err=True)
    typer.echo(signer.verifier.vkey)


def cosign(
    code: Annotated[str, typer.Argument(help="The campaign's code.")],
    key: Annotated[Path, typer.Option("--key", help="Your cosigning key (PEM).")],
    name: Annotated[str, typer.Option(help="Your cosigner name, as in your registered vkey.")],
    server: ServerOption,
    token: TokenOption,
    log_key: Annotated[
        str | None,
        typer.Option(
            envvar="RELIEF_LOG_KEY",
            help="The log's vkey; default the one in the state file (trusted on first use).",
        ),
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Where you keep what you cosigned; default KEY.state.json.")
    ] = None,
) -> None:
    """Cosign the campaign's latest checkpoint after checking it extends the last you cosigned."""
    import time

    import httpx
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from app import cli_common
    from app.transparency import verify

    state_path = state or key.with_name(key.name + ".state.json")
    saved: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    private = load_pem_private_key(key.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        cli_common.fail(f"{key} is not an Ed25519 key")
    try:
        with cli_common.client(server, token) as client:
            trusted = log_key or saved.get("log_key")
            if trusted is None:
                trusted = client.get("/v1/public/signing-key").text.strip()
                cli_common.errors.print(f"trusting the log's key on first use: {trusted}")
            text = client.get(f"/v1/public/campaigns/{code}/checkpoint")
            if text.status_code != 200:
                cli_common.fail(f"no checkpoint: {cli_common.problem(text).get('detail')}")
            new = verify.open_checkpoint(text.text, verify.Verifier.parse(trusted))
            old = saved.get("checkpoints", {}).get(new.origin)
            if old is not None:
                verify.verify_checkpoints(old, text.text, [trusted], server)
            line = verify.cosign(new.note.body, name, private, int(time.time()))
            posted = client.post(
                f"/v1/campaigns/{code}/checkpoints/{new.size}/cosignatures",
                json={"signature": line},
            )
    except httpx.TransportError as exc:
        cli_common.unreachable(server, exc)
    except verify.VerificationError as exc:
        cli_common.fail(f"refused to cosign: {exc}")
    if posted.status_code != 201:
        problem = cli_common.problem(posted)
        cli_common.fail(f"{problem.get('code', posted.status_code)}: {problem.get('detail')}")
    saved["log_key"] = trusted
    saved.setdefault("checkpoints", {})[new.origin] = (
        new.note.body
        + "\n"
        + "".join(verify.signature_line(n, raw) for n, raw in new.note.signatures)
    )
    state_path.write_text(json.dumps(saved, indent=2, ensure_ascii=False))
    typer.echo(posted.text, nl=False)


@verify_app.command(
    "receipt",
    epilog="\b\nExample:\n  relief verify receipt RL-7K3M9Q --server https://ledger.mttq-nghean.vn "
    "--key 'ledger.mttq-nghean.vn+1a2b3c4d+AW…'",
)
def verify_receipt(
    receipt_code: Annotated[str, typer.Argument(help="The receipt code, RL-…")],
    server: ServerOption,
    key: KeyOption,
) -> None:
    """The receipt's entry is in the campaign's log, under a checkpoint the key signed."""
    from app.transparency import verify

    failure = verify.VerificationError("no --key given")
    for vkey in key:
        try:
            proven = verify.verify_receipt(server, receipt_code, vkey)
        except verify.VerificationError as exc:
            failure = exc
            continue
        typer.echo(
            f"OK: {receipt_code} is entry {int(str(proven['leaf_index'])) + 1} of "
            f"{proven['tree_size']} in {proven['campaign']}'s signed log."
        )
        return
    typer.echo(f"FAILED: {failure}", err=True)
    raise typer.Exit(1)


@verify_app.command(
    "consistency",
    epilog="\b\nExample:\n  relief verify consistency monday.checkpoint today.checkpoint "
    "--server https://ledger.mttq-nghean.vn --key 'ledger.mttq-nghean.vn+1a2b3c4d+AW…'",
)
def verify_consistency(
    old: Annotated[Path, typer.Argument(help="The checkpoint you kept.")],
    new: Annotated[Path, typer.Argument(help="A later checkpoint.")],
    server: ServerOption,
    key: KeyOption,
) -> None:
    """Both checkpoints are signed, and the new one only appended to the old one."""
    from app.transparency import verify

    try:
        before, after = verify.verify_checkpoints(
            old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8"), key, server
        )
    except verify.VerificationError as exc:
        typer.echo(f"FAILED: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"OK: {after.origin} grew from {before.size} to {after.size} entries, append-only.")
