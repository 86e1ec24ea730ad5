"""`carbon254 tenants` and `carbon254 keys`: entitlements checked, keys printed once, revocation,
rotation, `CARBON254_METADATA_URL` honoured, and every change audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_cli
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.metadata import MetadataDatabase, get_tenant, list_keys, query_events, verify_key
from carbon254.metadata.keys import split_key


def metadata(data_dir: Path) -> MetadataDatabase:
    return MetadataDatabase(f"sqlite:///{data_dir / 'metadata.db'}")


def test_tenants_create_and_list(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)]
    result = runner.invoke(
        app, ["tenants", "create", "acme", "--isos", "ercot,PJM", "--datasets", "lmp,load", *args]
    )
    assert result.exit_code == 0, result.output
    assert "acme: isos ERCOT,PJM; datasets lmp,load; features all" in result.stdout
    assert (
        runner.invoke(app, ["tenants", "create", "ops", "--admin", "--features", "risk", *args]).exit_code
        == 0
    )

    db = metadata(tmp_path)
    try:
        acme = get_tenant(db, "acme")
        assert (acme.isos, acme.datasets, acme.features, acme.admin) == (
            ("ERCOT", "PJM"),
            ("lmp", "load"),
            None,
            False,
        )
        assert get_tenant(db, "ops").admin is True
        created = query_events(db, action="admin.tenant.create")
        assert {(e.event.target, e.event.method, e.event.status) for e in created} == {
            ("acme", "cli", 201),
            ("ops", "cli", 201),
        }
    finally:
        db.close()

    listed = runner.invoke(app, ["tenants", "list", *args])
    assert listed.exit_code == 0
    assert "acme" in listed.stdout and "ERCOT,PJM" in listed.stdout and "ops" in listed.stdout


@pytest.mark.parametrize(
    ("option", "value", "message", "hint"),
    [
        ("--isos", "ERCOT,ERCOTT", "unknown ISO 'ERCOTT'", "Did you mean: ERCOT?"),
        ("--datasets", "lmps", "unknown dataset 'lmps'", "lmp"),
        ("--features", "not valid", "invalid feature name", None),
    ],
)
def test_tenants_create_refuses_unknown_names(
    runner: CliRunner, tmp_path: Path, option: str, value: str, message: str, hint: str | None
) -> None:
    result = runner.invoke(app, ["tenants", "create", "acme", option, value, "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert message in result.stderr
    if hint:
        assert hint in result.stderr
    db = metadata(tmp_path)
    try:
        assert query_events(db, action="admin.tenant.create")[0].event.status == 422
    finally:
        db.close()


def test_tenants_create_refuses_a_duplicate(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["tenants", "create", "acme", *args]).exit_code == 0
    result = runner.invoke(app, ["tenants", "create", "acme", "--isos", "PJM", *args])
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_keys_create_revoke_rotate_list(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["tenants", "create", "acme", "--isos", "ERCOT", *args]).exit_code == 0

    created = runner.invoke(app, ["keys", "create", "--tenant", "acme", *args])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("c254_") and key == created.stdout.strip()
    parts = split_key(key)
    assert parts is not None
    key_id, secret = parts
    db = metadata(tmp_path)
    try:
        verified = verify_key(db, key)
        assert verified is not None and verified.tenant.isos == ("ERCOT",)

        listed = runner.invoke(app, ["keys", "list", "--tenant", "acme", *args])
        assert listed.exit_code == 0 and key_id in listed.stdout and secret not in listed.stdout

        rotated = runner.invoke(app, ["keys", "rotate", key_id, *args])
        assert rotated.exit_code == 0, rotated.output
        new_key = rotated.stdout.strip().splitlines()[-1]
        assert verify_key(db, key) is None
        assert verify_key(db, new_key) is not None

        revoked = runner.invoke(app, ["keys", "revoke", new_key, *args])
        assert revoked.exit_code == 0, revoked.output
        assert verify_key(db, new_key) is None
        assert [k.active for k in list_keys(db, "acme")] == [False, False]

        actions = {(e.event.action, e.event.status) for e in query_events(db)}
        assert {("admin.key.create", 201), ("admin.key.rotate", 201), ("admin.key.revoke", 200)} <= actions
        logged = str(query_events(db))
        assert secret not in logged and key not in logged and new_key not in logged
    finally:
        db.close()


def test_keys_errors_are_clear(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)]
    unknown_tenant = runner.invoke(app, ["keys", "create", "--tenant", "nobody", *args])
    assert unknown_tenant.exit_code == 1
    assert "unknown tenant 'nobody'" in unknown_tenant.stderr and "tenants list" in unknown_tenant.stderr
    assert unknown_tenant.stdout == ""
    unknown_key = runner.invoke(app, ["keys", "revoke", "0000000000000000", *args])
    assert unknown_key.exit_code == 1 and "unknown API key" in unknown_key.stderr
    assert runner.invoke(app, ["keys", "list", "--tenant", "nobody", *args]).exit_code == 1


def test_metadata_url_environment_is_honoured(runner: CliRunner, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "meta.db"
    env = {"CARBON254_METADATA_URL": f"sqlite:///{elsewhere}"}
    data_dir = tmp_path / "data"
    result = runner.invoke(app, ["tenants", "create", "acme", "--data-dir", str(data_dir)], env=env)
    assert result.exit_code == 0, result.output
    assert elsewhere.exists() and not (data_dir / "metadata.db").exists()
    listed = runner.invoke(app, ["tenants", "list", "--data-dir", str(data_dir)], env=env)
    assert "acme" in listed.stdout


def test_metadata_url_on_postgres(runner: CliRunner, tmp_path: Path, postgres_url: str) -> None:
    env = {"CARBON254_METADATA_URL": postgres_url}
    args = ["--data-dir", str(tmp_path)]
    assert (
        runner.invoke(app, ["tenants", "create", "pg-acme", "--isos", "PJM", *args], env=env).exit_code == 0
    )
    created = runner.invoke(app, ["keys", "create", "--tenant", "pg-acme", *args], env=env)
    assert created.exit_code == 0, created.output
    db = MetadataDatabase(postgres_url)
    try:
        assert verify_key(db, created.stdout.strip()) is not None
    finally:
        db.close()


def test_an_unreachable_database_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    env = {"CARBON254_METADATA_URL": "postgresql://nobody:hunter2@127.0.0.1:1/none"}
    result = runner.invoke(app, ["tenants", "list", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 1
    assert "cannot open the metadata database" in result.stderr
    assert "hunter2" not in result.output


def test_keys_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    """The installed command, as a script would run it: the key is the last line of stdout."""
    assert (
        run_cli("tenants", "create", "acme", "--isos", "ERCOT,PJM", "--data-dir", str(tmp_path)).returncode
        == 0
    )
    result = run_cli("keys", "create", "--tenant", "acme", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    last = result.stdout.rstrip("\n").splitlines()[-1]
    db = metadata(tmp_path)
    try:
        assert verify_key(db, last) is not None
    finally:
        db.close()
    revoke = run_cli("keys", "revoke", last, "--data-dir", str(tmp_path))
    assert revoke.returncode == 0, revoke.stderr
