"""Restoring a backup without lying to sync clients (docs/operations.md, "Backup";
docs/api.md, "Changes"): after a restore the first writes re-use sequences and versions that
were handed out before, so `kontingentctl epoch renew` gives the feed a new epoch — cursors
and ETags of before are then refused (410/412 FEED_EPOCH_CHANGED) and clients resynchronise,
instead of missing those writes or matching an ETag that names other content."""

import os
import signal
import sqlite3

import pytest

from conftest import (SQLITE_PATH, assert_problem, ensure_org, issue_token, master_pid, run_ctl,
                      wait_for_workers, worker_pids)
from kt_data import new_ogrn, student

pytestmark = pytest.mark.store(
    "sqlite", reason="restores the stack's SQLite file; the store contract test covers "
    "MongoDB's epoch")

ORG = new_ogrn()
MERGE = {"Content-Type": "application/merge-patch+json"}


def feed_end(client, tok, cursor=None):
    while True:
        r = client.get("/api/v1/changes", token=tok,
                       params={"limit": 500, **({"since": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        if not page["items"]:
            return page
        cursor = page["next_cursor"]


def copy_db(src, dst):
    """SQLite's online backup: a consistent copy while the workers write."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def reload_workers():
    before = worker_pids()
    os.kill(master_pid(), signal.SIGHUP)
    wait_for_workers(exclude=before)


@pytest.fixture
def original_epoch():
    """Whatever the test does, the stack goes back to the original epoch afterwards (the
    other modules' cursors and ETags are of it)."""
    yield
    db = sqlite3.connect(SQLITE_PATH, timeout=30)
    with db:
        db.execute("DELETE FROM meta WHERE key = 'feed_epoch'")
    db.close()
    reload_workers()


def test_a_restore_with_a_new_epoch_makes_old_cursors_and_etags_resync(client, tmp_path,
                                                                       original_epoch):
    ensure_org(ORG)
    tok = issue_token("region")
    created = client.post("/api/v1/students", json=student(org=ORG), token=tok)
    assert created.status_code == 201, created.text
    url = f"/api/v1/students/{created.json()['id']}"
    before = feed_end(client, tok)
    assert before["epoch"] == "0" and "." not in before["next_cursor"]

    backup = tmp_path / "backup.db"
    copy_db(SQLITE_PATH, backup)
    # Written after the backup: what the restore loses, and a client saw.
    r = client.patch(url, token=tok, data='{"birth_place": "до восстановления"}',
                     headers={**MERGE, "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    seen = feed_end(client, tok, before["next_cursor"])["next_cursor"]

    copy_db(backup, SQLITE_PATH)  # the restore
    workers = worker_pids()
    out = run_ctl("epoch", "renew")
    epoch = out.stdout.splitlines()[0]
    assert len(epoch) == 16 and "told the service" in out.stdout
    wait_for_workers(exclude=workers)  # fresh workers, which read the new epoch

    # Both cursors of before (the one past the lost write included) are refused.
    for cursor in (seen, before["next_cursor"]):
        r = client.get("/api/v1/changes", token=tok, params={"since": cursor})
        assert_problem(r, 410, "FEED_EPOCH_CHANGED")
    # The ETag of version 2 of before names content the store no longer has.
    r = client.patch(url, token=tok, data='{"birth_place": "после"}',
                     headers={**MERGE, "If-Match": '"2"'})
    assert_problem(r, 412, "FEED_EPOCH_CHANGED")

    # Starting over: the epoch is in the answer, its header, its cursors and the ETags.
    fresh = client.get("/api/v1/changes", token=tok, params={"limit": 500})
    assert fresh.status_code == 200
    assert fresh.headers["X-Feed-Epoch"] == epoch and fresh.json()["epoch"] == epoch
    assert fresh.json()["next_cursor"].startswith(epoch + ".")
    cursor = feed_end(client, tok)["next_cursor"]
    current = client.get(url, token=tok)
    assert current.headers["ETag"] == f'"1.{epoch}"'
    r = client.patch(url, token=tok, data='{"birth_place": "после"}',
                     headers={**MERGE, "If-Match": current.headers["ETag"]})
    assert r.status_code == 200 and r.headers["ETag"] == f'"2.{epoch}"'
    page = client.get("/api/v1/changes", token=tok, params={"since": cursor}).json()
    assert [(e["student_id"], e["version"]) for e in page["items"]] == [
        (created.json()["id"], 2)]
    # A cursor "0" starts from the beginning in any epoch.
    assert client.get("/api/v1/changes", token=tok, params={"since": "0"}).status_code == 200
