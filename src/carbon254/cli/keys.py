"""`carbon254 keys create|revoke|rotate|list`: tenants' API keys.

A key is `c254_<key id>_<secret>`; only the SHA-256 of the secret is stored,
so a new key is printed once (alone on the last line of stdout, for scripts:
`KEY=$(carbon254 keys create --tenant acme)`) and cannot be shown again.
Revocation takes effect on the service's next request. Every change is
written to the audit log; key secrets never are.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from carbon254.cli.console import console, err_console
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.tenants import audit_cli, cli_status, fail_metadata, open_metadata
from carbon254.metadata import IssuedKey, MetadataError, create_key, list_keys, revoke_key, rotate_key
from carbon254.metadata.keys import split_key

keys = typer.Typer(
    name="keys", help="API keys of tenants: create, revoke, rotate, list.", no_args_is_help=True
)

KeyArgument = Annotated[
    str, typer.Argument(help="The key's id, or the whole key (c254_<id>_<secret>).", show_default=False)
]


def _key_id(key: str) -> str:
    """The id of a key given by id or plaintext: what the audit log may show of it."""
    parts = split_key(key)
    return parts[0] if parts else key.strip()


def _print_issued(issued: IssuedKey, verb: str) -> None:
    record = issued.record
    err_console.print(
        f"{verb} API key {escape(record.key_id)} for tenant {escape(record.tenant)}. "
        "It is shown once, below: store it now."
    )
    # stdout holds the key alone, so scripts can capture it.
    typer.echo(issued.plaintext)


@keys.command("create")
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant the key is for.", show_default=False)],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create an API key for a tenant and print it (alone on the last line of stdout)."""
    db = open_metadata(data_dir)
    try:
        issued = create_key(db, tenant)
    except MetadataError as exc:
        audit_cli(db, "admin.key.create", tenant, {"tenant": tenant}, cli_status(exc))
        db.close()
        fail_metadata(exc)
    audit_cli(db, "admin.key.create", issued.record.key_id, {"tenant": issued.record.tenant}, 201)
    db.close()
    _print_issued(issued, "Created")


@keys.command("revoke")
def revoke(key: KeyArgument, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Revoke a key (by id or whole key): the service refuses it from its next request on."""
    db = open_metadata(data_dir)
    key_id = _key_id(key)
    try:
        record = revoke_key(db, key)
    except MetadataError as exc:
        audit_cli(db, "admin.key.revoke", key_id, {}, cli_status(exc))
        db.close()
        fail_metadata(exc)
    audit_cli(db, "admin.key.revoke", record.key_id, {}, 200)
    db.close()
    console.print(f"Revoked API key {escape(record.key_id)} of tenant {escape(record.tenant)}.")


@keys.command("rotate")
def rotate(key: KeyArgument, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Replace a key by a new one for its tenant (printed alone on the last line); the old one is revoked."""
    db = open_metadata(data_dir)
    key_id = _key_id(key)
    try:
        issued = rotate_key(db, key)
    except MetadataError as exc:
        audit_cli(db, "admin.key.rotate", key_id, {}, cli_status(exc))
        db.close()
        fail_metadata(exc)
    audit_cli(db, "admin.key.rotate", key_id, {"new_key_id": issued.record.key_id}, 201)
    db.close()
    _print_issued(issued, f"Revoked {key_id}; created")


@keys.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's keys.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Keys (ids only, never secrets), oldest first, revoked ones included."""
    db = open_metadata(data_dir)
    try:
        rows = list_keys(db, tenant)
    except MetadataError as exc:
        db.close()
        fail_metadata(exc)
    db.close()
    if not rows:
        console.print("No API keys yet: create one with `carbon254 keys create --tenant NAME`.")
        return
    table = Table(title="API keys", title_justify="left")
    # Ids and times are copied from here: never cut them short.
    for column, width in (("key id", 16), ("tenant", None), ("created (UTC)", 19), ("revoked (UTC)", 19)):
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("rotated from", no_wrap=True, min_width=16)
    table.add_column("active", no_wrap=True)
    for k in rows:
        table.add_row(
            k.key_id,
            escape(k.tenant),
            k.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            k.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if k.revoked_at else "-",
            k.rotated_from or "-",
            "yes" if k.active else "no",
        )
    print_table(console, table)
