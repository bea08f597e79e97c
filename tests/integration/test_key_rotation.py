"""Rotating keys without logging anybody out or half-completing (docs/operations.md,
"Rotating keys"): the token-signing key (`kontingentctl token rotate | retire`) and the
health data's master key (`kontingentctl keys rotate`)."""

import base64
import json
import os
import shutil
import signal

import pytest

from conftest import (STORE, TEST_VAR, issue_token, master_pid, run_ctl, wait_for_workers,
                      worker_pids)

KEYS = TEST_VAR / "keys"
TOKEN_FILES = [KEYS / "token-signing.key", KEYS / "token-signing.pub"]


def kid_of(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def reload_and_wait(action):
    """Runs action (which signals the master) and waits for the fresh workers."""
    before = worker_pids()
    out = action()
    wait_for_workers(exclude=before)
    return out


@pytest.fixture
def token_keys(tmp_path):
    """The stack's token keys as they were, put back (and the workers reloaded) after the
    test, so that tokens other modules hold keep working."""
    saved = [tmp_path / f.name for f in TOKEN_FILES]
    for f, s in zip(TOKEN_FILES, saved):
        shutil.copy2(f, s)
    yield
    for f, s in zip(TOKEN_FILES, saved):
        shutil.copy2(s, f)
    reload_and_wait(lambda: os.kill(master_pid(), signal.SIGHUP))


def test_a_token_of_the_old_key_works_through_the_overlap_and_not_after(client, token_keys):
    old_token = issue_token("admin")
    old_kid = kid_of(old_token)
    assert client.get("/api/v1/whoami", token=old_token).status_code == 200

    out = reload_and_wait(lambda: run_ctl("token", "rotate").stdout)
    assert "told the service" in out and old_kid in out
    new_token = issue_token("admin")
    new_kid = kid_of(new_token)
    assert new_kid != old_kid
    assert run_ctl("token", "kid").stdout.strip() == new_kid
    # The overlap: both keys verify.
    assert client.get("/api/v1/whoami", token=old_token).status_code == 200
    assert client.get("/api/v1/whoami", token=new_token).status_code == 200

    # Before KT_TOKEN_MAX_TTL has passed the old key is not retired, nor ever the signing one.
    early = run_ctl("token", "retire", old_kid, check=False)
    assert early.returncode == 1 and "KT_TOKEN_MAX_TTL" in early.stderr
    assert run_ctl("token", "retire", new_kid, "--now", check=False).returncode == 1
    assert run_ctl("token", "retire", "no-such-kid", "--now", check=False).returncode == 1
    assert run_ctl("token", "retire", check=False).returncode == 2

    reload_and_wait(lambda: run_ctl("token", "retire", old_kid, "--now"))
    r = client.get("/api/v1/whoami", token=old_token)
    assert r.status_code == 401
    assert client.get("/api/v1/whoami", token=new_token).status_code == 200


def test_token_rotate_that_cannot_write_changes_nothing(token_keys, tmp_path):
    """Everything is prepared beside the key files before anything is swapped: a rotation
    that fails leaves the keys, and the workers, as they were."""
    before = {f: f.read_bytes() for f in TOKEN_FILES}
    pids = worker_pids()
    # The private key's staging file cannot be created: a directory is in its way.
    blocker = KEYS / "token-signing.key.rotating"
    blocker.mkdir()
    try:
        r = run_ctl("token", "rotate", check=False)
    finally:
        blocker.rmdir()
    assert r.returncode == 1 and "nothing changed" in r.stderr
    assert {f: f.read_bytes() for f in TOKEN_FILES} == before
    assert not (KEYS / "token-signing.pub.rotating").exists()
    assert worker_pids() == pids


def test_health_key_rotate_with_an_unreachable_store_changes_nothing(tmp_path):
    """`keys rotate` wraps every data key under the new master key before it writes the
    key file: a store it cannot use fails it before anything changed (it used to write the
    new key and signal the workers, then fail)."""
    keys = KEYS / "health.keys"
    before = keys.read_bytes()
    pids = worker_pids()
    # A store that opens but cannot serve the re-wrap: nothing listens on port 9; an SQLite
    # file without the registry's tables.
    env = ({"MONGODB_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=500"}
           if STORE == "mongodb" else {"KT_SQLITE": str(tmp_path / "not-the-registry.db")})
    r = run_ctl("keys", "rotate", "--grace", "0", env=env, check=False, timeout=60)
    assert r.returncode == 1
    assert keys.read_bytes() == before
    assert worker_pids() == pids
    assert "told the service" not in r.stdout
