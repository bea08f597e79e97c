"""kontingentctl migrate: a registry copied to another store keeps every version (the hash
chains verify there), its change feed and access log, and a second run copies nothing
(docs/storage.md, "Moving between them"). On the SQLite stacks the copy goes to another
SQLite file; on the FerretDB stack also from MongoDB to SQLite and back."""
import pathlib
import re
import urllib.parse

import pytest

from conftest import MONGODB_URI, STORE, run_ctl
from kt_data import SCHOOL_A, student

S = "/api/v1/students"


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="region-migrate")


@pytest.fixture
def seeded(client, region):
    """Students with several versions, one deleted, and a read (an access-log entry)."""
    ids = []
    for i in range(3):
        r = client.post(S, token=region, json=student(last_name=f"Мигрантова{'аб'[i % 2]}"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = client.patch(f"{S}/{ids[0]}", token=region, json={"birth_place": "г. Казань"},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    reason = urllib.parse.quote("перевод в другой регион")
    r = client.delete(f"{S}/{ids[1]}?reason={reason}", token=region)
    assert r.status_code in (200, 204), r.text
    assert client.get(f"{S}/{ids[2]}", token=region).status_code == 200
    return ids


def counts(verify_out):
    m = re.search(r"(\d+) students, (\d+) versions", verify_out)
    assert m, verify_out
    return int(m.group(1)), int(m.group(2))


def sqlite_env(path):
    return {"KT_STORE": "sqlite", "KT_SQLITE": str(path)}


@pytest.mark.store("sqlite", reason="copies the whole stack's registry; on FerretDB, test_mongodb_to_sqlite_and_back copies a small one")
def test_a_copy_to_another_sqlite_file_verifies_and_keeps_everything(seeded, tmp_path):
    source = counts(run_ctl("verify").stdout)
    out = run_ctl("migrate", "--to", "sqlite", "--sqlite", tmp_path / "copy.db", timeout=600)
    assert "OK:" in out.stdout, out.stdout
    copied = run_ctl("verify", env=sqlite_env(tmp_path / "copy.db"))
    assert counts(copied.stdout) == source
    for name in ("student_versions", "changes", "access_log"):
        line = re.search(rf"^{name}\s+(\d+) read, (\d+) copied$", out.stdout, re.M)
        assert line and int(line.group(1)) > 0 and line.group(1) == line.group(2), out.stdout


@pytest.mark.store("sqlite", reason="copies the whole stack's registry; on FerretDB, test_mongodb_to_sqlite_and_back copies a small one")
def test_a_second_run_copies_nothing(seeded, tmp_path):
    target = tmp_path / "again.db"
    run_ctl("migrate", "--to", "sqlite", "--sqlite", target, timeout=600)
    out = run_ctl("migrate", "--to", "sqlite", "--sqlite", target, timeout=600).stdout
    copied = [int(n) for n in re.findall(r"read, (\d+) copied", out)]
    assert copied and all(n == 0 for n in copied), out


def test_the_target_may_not_be_the_source(seeded):
    if STORE == "sqlite":
        from conftest import SQLITE_PATH
        proc = run_ctl("migrate", "--to", "sqlite", "--sqlite", SQLITE_PATH, check=False)
    else:
        proc = run_ctl("migrate", "--to", "mongodb", check=False)
    assert proc.returncode == 1 and "the target is the source" in proc.stderr


def test_usage_is_refused_with_exit_2(seeded):
    assert run_ctl("migrate", "--to", "oracle", check=False).returncode == 2
    assert run_ctl("migrate", "--to", check=False).returncode == 2


@pytest.mark.store("mongodb", reason="needs a MongoDB server (the FerretDB stack) for both legs")
def test_mongodb_to_sqlite_and_back(mongo, tmp_path):
    """A small registry of its own (the samples, imported through the package code path),
    so that the copies do not grow with what the rest of the suite wrote to the stack."""
    src = {"KT_STORE": "mongodb", "KT_DB": "kt_migrate_src"}
    back = {"KT_STORE": "mongodb", "KT_DB": "kt_migrate_back"}
    for name in ("kt_migrate_src", "kt_migrate_back"):
        mongo.client.drop_database(name)
    run_ctl("init", env=src)
    samples = pathlib.Path(__file__).resolve().parents[2] / "xsd" / "samples"
    for sample in ("packet-organizations.xml", "packet-small.xml", "packet-records.xml"):
        run_ctl("import", samples / sample, env=src, check=False)
    source = counts(run_ctl("verify", env=src).stdout)
    assert source[0] > 0
    copy = tmp_path / "from-mongo.db"
    run_ctl("migrate", "--to", "sqlite", "--sqlite", copy, env=src, timeout=600)
    assert counts(run_ctl("verify", env=sqlite_env(copy)).stdout) == source
    out = run_ctl("migrate", "--to", "mongodb", "--db", "kt_migrate_back",
                  env=dict(sqlite_env(copy), MONGODB_URI=MONGODB_URI), timeout=600)
    assert "OK:" in out.stdout, out.stdout
    assert counts(run_ctl("verify", env=back).stdout) == source
    for name in ("kt_migrate_src", "kt_migrate_back"):
        mongo.client.drop_database(name)


def test_the_scripts_refuse_an_empty_store_beside_a_ferretdb_registry(tmp_path):
    """An installation of before SQLite became the default: scripts/run must not start on
    an empty registry as if it were new (docs/operations.md, "Upgrading from FerretDB")."""
    import getpass
    import pathlib
    import subprocess

    repo = pathlib.Path(__file__).resolve().parents[2]
    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "data" / "kontingent.sqlite").write_bytes(b"SQLite format 3\0")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path),
           "KT_VAR": str(tmp_path), "KT_USER": getpass.getuser()}
    proc = subprocess.run(
        ["bash", "-c", f"source {repo}/scripts/lib.sh && kt_config && kt_prepare_sqlite"],
        env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "migrate it first" in proc.stderr and "Upgrading from FerretDB" in proc.stderr
    db = tmp_path / "data" / "kontingent.db"
    assert not db.exists() or db.stat().st_size == 0  # nothing was opened as a registry
