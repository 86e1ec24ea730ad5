"""API keys: format, only the hash stored, verification, revocation at once, rotation, listing."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import text

from carbon254.metadata import (
    KeyVerifier,
    MetadataDatabase,
    UnknownKey,
    UnknownTenant,
    create_key,
    create_tenant,
    list_keys,
    revoke_key,
    rotate_key,
    update_tenant,
    verify_key,
)
from carbon254.metadata import keys as keys_module
from carbon254.metadata.keys import split_key


def tenant(db: MetadataDatabase, **entitlements: list[str]) -> str:
    name = f"keys-{uuid.uuid4().hex[:8]}"
    create_tenant(db, name, **entitlements)  # type: ignore[arg-type]
    return name


def test_key_format_and_verification(db: MetadataDatabase) -> None:
    name = tenant(db, isos=["ERCOT"])
    issued = create_key(db, name)
    prefix, key_id, secret = issued.plaintext.split("_", 2)
    assert prefix == "c254"
    assert key_id == issued.record.key_id
    assert len(secret) >= 40
    assert issued.record.tenant == name and issued.record.active and issued.record.rotated_from is None
    verified = verify_key(db, issued.plaintext)
    assert verified is not None
    assert verified.key_id == key_id
    assert verified.tenant.name == name and verified.tenant.isos == ("ERCOT",)


def test_only_the_hash_of_the_secret_is_stored(db: MetadataDatabase) -> None:
    issued = create_key(db, tenant(db))
    parts = split_key(issued.plaintext)
    assert parts is not None
    key_id, secret = parts
    with db.engine.connect() as connection:
        row = (
            connection.execute(text("SELECT * FROM api_keys WHERE key_id = :k"), {"k": key_id})
            .mappings()
            .one()
        )
    stored = " ".join(str(value) for value in row.values())
    assert secret not in stored and issued.plaintext not in stored
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
        lambda k: "c254_0000000000000000_" + k.split("_", 2)[2],  # unknown key id
        lambda k: k.replace("c254_", "c255_", 1),  # not our prefix
        lambda k: "c254_",  # truncated
        lambda k: "",
    ],
)
def test_wrong_keys_do_not_verify(db: MetadataDatabase, mangle: object) -> None:
    issued = create_key(db, tenant(db))
    assert callable(mangle)
    assert verify_key(db, mangle(issued.plaintext)) is None


def test_revoke_by_id_or_plaintext_is_effective_at_once_everywhere(
    metadata_url: str, db: MetadataDatabase
) -> None:
    name = tenant(db)
    by_id, by_plaintext = create_key(db, name), create_key(db, name)
    # A second handle on the same database stands for another service process.
    other = MetadataDatabase(metadata_url)
    try:
        assert verify_key(other, by_id.plaintext) is not None
        revoked = revoke_key(db, by_id.record.key_id)
        assert revoked.revoked_at is not None and not revoked.active
        assert verify_key(other, by_id.plaintext) is None
        assert verify_key(db, by_id.plaintext) is None
        revoke_key(db, by_plaintext.plaintext)
        assert verify_key(other, by_plaintext.plaintext) is None
        # Revoking again is harmless and keeps the first revocation time.
        assert revoke_key(db, by_id.record.key_id).revoked_at == revoked.revoked_at
    finally:
        other.close()


def test_revoke_refuses_unknown_keys_and_wrong_secrets(db: MetadataDatabase) -> None:
    issued = create_key(db, tenant(db))
    with pytest.raises(UnknownKey):
        revoke_key(db, "0000000000000000")
    wrong = issued.plaintext[:-2] + ("xy" if not issued.plaintext.endswith("xy") else "yz")
    with pytest.raises(UnknownKey, match="does not match"):
        revoke_key(db, wrong)
    assert verify_key(db, issued.plaintext) is not None


def test_rotate_issues_a_new_key_and_revokes_the_old(db: MetadataDatabase) -> None:
    name = tenant(db)
    old = create_key(db, name)
    new = rotate_key(db, old.plaintext)
    assert new.record.rotated_from == old.record.key_id
    assert new.record.tenant == name
    assert verify_key(db, old.plaintext) is None
    verified = verify_key(db, new.plaintext)
    assert verified is not None and verified.key_id == new.record.key_id
    with pytest.raises(UnknownKey):
        rotate_key(db, "ffffffffffffffff")


def test_list_keys_never_holds_secrets(db: MetadataDatabase) -> None:
    name = tenant(db)
    first = create_key(db, name)
    second = rotate_key(db, first.record.key_id)
    listed = list_keys(db, name)
    assert [k.key_id for k in listed] == [first.record.key_id, second.record.key_id]
    assert [k.active for k in listed] == [False, True]
    assert all(first.plaintext not in repr(k) and second.plaintext not in repr(k) for k in listed)
    assert {k.key_id for k in list_keys(db)} >= {first.record.key_id, second.record.key_id}
    with pytest.raises(UnknownTenant):
        list_keys(db, "no-such-tenant")
    with pytest.raises(UnknownTenant):
        create_key(db, "no-such-tenant")


def test_entitlement_changes_show_on_the_next_verification(db: MetadataDatabase) -> None:
    name = tenant(db, isos=["PJM"])
    issued = create_key(db, name)
    update_tenant(db, name, isos=["ERCOT"])
    verified = verify_key(db, issued.plaintext)
    assert verified is not None and verified.tenant.isos == ("ERCOT",)


def test_key_verifier_sees_every_change_made_through_another_handle(
    metadata_url: str, db: MetadataDatabase
) -> None:
    name = tenant(db, isos=["PJM"])
    kept, rotated = create_key(db, name), create_key(db, name)
    # The verifier stands for a service process; `db` for the CLI or another worker.
    service = MetadataDatabase(metadata_url)
    try:
        verifier = KeyVerifier(service)
        first = verifier.verify(kept.plaintext)
        assert first is not None and first.tenant.isos == ("PJM",)
        assert verifier.verify(rotated.plaintext) is not None
        update_tenant(db, name, isos=["ERCOT"])
        narrowed = verifier.verify(kept.plaintext)
        assert narrowed is not None and narrowed.tenant.isos == ("ERCOT",)
        replacement = rotate_key(db, rotated.plaintext)
        assert verifier.verify(rotated.plaintext) is None
        assert verifier.verify(replacement.plaintext) is not None
        revoke_key(db, kept.record.key_id)
        assert verifier.verify(kept.plaintext) is None
        assert verifier.verify(kept.plaintext[:-1] + "?") is None
    finally:
        service.close()


def test_key_verifier_answers_from_its_memo_while_nothing_changed(
    db: MetadataDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = create_key(db, tenant(db))
    verifier = KeyVerifier(db)
    assert verifier.verify(issued.plaintext) is not None
    reads: list[str] = []
    monkeypatch.setattr(keys_module, "verify_key", lambda d, k: reads.append(k))
    again = verifier.verify(issued.plaintext)
    assert again is not None and again.key_id == issued.record.key_id
    assert reads == []
    # Any credentials change, even to another tenant, makes it read the key again.
    update_tenant(db, tenant(db), isos=["ERCOT"])
    assert verifier.verify(issued.plaintext) is None  # the patched read found nothing
    assert reads == [issued.plaintext]


def test_credentials_version_read_survives_a_broken_kept_connection(db: MetadataDatabase) -> None:
    before = db.credentials.read()
    db.credentials._kept.driver_connection.close()  # the server closed it, say
    update_tenant(db, tenant(db), isos=["PJM"])
    assert db.credentials.read() == before + 1
    assert db.credentials.read() == before + 1
