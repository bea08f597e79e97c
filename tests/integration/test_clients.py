"""Clients generated from docs/openapi.yaml by tools nobody here wrote, used as an integrator
would: each creates, reads, merge-patches and searches a student against the live stack with
typed models, and reads a typed problem.

- Python: openapi-python-client (tests/integration/requirements.txt) generates a package into
  build/clients/python/ (never committed); the generator must not drop a single schema or
  response (it warns when it does: any warning fails the test).
- TypeScript: openapi-typescript turns the document into types, openapi-fetch calls the API
  with them, `tsc --strict` type-checks tests/clients/ts/client.ts against them and node runs it
  (tests/clients/ts/package.json; npm ci into build/clients/ts/ like the console's packages).
  Without node or npm on the machine that half is skipped, saying so.
"""

import importlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import kt_data
from conftest import BASE_URL, issue_token, new_org

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "openapi.yaml"
OUT = REPO / "build" / "clients"
PACKAGE = "kontingent_client"


def _generate_python():
    generator = pathlib.Path(sys.executable).with_name("openapi-python-client")
    if not generator.exists():
        pytest.skip("openapi-python-client is not installed (tests/integration/requirements.txt)")
    out = OUT / "python" / PACKAGE
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    # No post hooks: the formatter (ruff) changes nothing a test could notice.
    config = OUT / "python" / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))
    r = subprocess.run(
        [str(generator), "generate", "--path", str(SPEC), "--output-path", str(out),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300,
    )
    log = r.stdout + r.stderr
    assert r.returncode == 0, log
    # It warns about every schema and response it cannot model, then leaves it out.
    assert "Warning" not in log and "WARNING" not in log, log
    return out.parent


@pytest.fixture(scope="module")
def py_client():
    sys.path.insert(0, str(_generate_python()))
    try:
        client_mod = importlib.import_module(PACKAGE)
        yield client_mod
    finally:
        sys.path.pop(0)


def test_python_client_creates_reads_patches_and_searches(py_client):
    from kontingent_client.api.students import (
        create_student, get_student, patch_student, search_students)
    from kontingent_client.models import (
        ActiveStudent, Problem, StudentInput, StudentList, StudentPatch)

    org = new_org()
    client = py_client.AuthenticatedClient(
        base_url=BASE_URL, token=issue_token("region"), verify_ssl=False, timeout=30)
    doc = kt_data.student(org=org)

    created = create_student.sync_detailed(
        client=client, body=StudentInput.from_dict(doc), reason="приём, приказ № 1")
    assert created.status_code == 201, created.content
    student = created.parsed
    assert isinstance(student, ActiveStudent)
    assert student.version == 1 and student.organization == org
    assert created.headers["ETag"] == '"1"'

    read = get_student.sync(student.id, client=client)
    assert isinstance(read, ActiveStudent)
    assert (read.id, read.last_name, read.snils) == (student.id, doc["last_name"], student.snils)

    patched = patch_student.sync(
        student.id, client=client, if_match='"1"', reason="уточнение места рождения",
        body=StudentPatch.from_dict({"birth_place": "г. Набережные Челны"}))
    assert isinstance(patched, ActiveStudent)
    assert patched.version == 2 and patched.birth_place == "г. Набережные Челны"

    found = search_students.sync(client=client, snils=student.snils)
    assert isinstance(found, StudentList)
    assert [s.id for s in found.items] == [student.id]
    assert isinstance(found.items[0], ActiveStudent) and found.items[0].version == 2

    stale = patch_student.sync(
        student.id, client=client, if_match='"1"', body=StudentPatch.from_dict({}))
    assert isinstance(stale, Problem)
    assert stale.status == 412 and stale.code.value == "VERSION_CONFLICT"


# --- TypeScript -----------------------------------------------------------------------------

TS_SRC = REPO / "tests" / "clients" / "ts"


def _npm_ci(where):
    """npm ci of tests/clients/ts's lock into build/clients/ts, again only when it changed."""
    lock = (TS_SRC / "package-lock.json").read_bytes()
    stamp = where / ".lock"
    if stamp.exists() and stamp.read_bytes() == lock and (where / "node_modules").is_dir():
        return
    where.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(TS_SRC / name, where / name)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=where,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    stamp.write_bytes(lock)


def test_typescript_client_creates_reads_patches_and_searches():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (scripts/test installs them)")
    where = OUT / "ts"
    _npm_ci(where)
    bin_ = where / "node_modules" / ".bin"
    run = lambda *args: subprocess.run(  # noqa: E731
        [*args], cwd=where, capture_output=True, text=True, timeout=300)
    r = run(str(bin_ / "openapi-typescript"), str(SPEC), "-o", "schema.d.ts")
    assert r.returncode == 0, r.stdout + r.stderr
    shutil.copy(TS_SRC / "client.ts", where / "client.ts")
    shutil.copy(TS_SRC / "tsconfig.json", where / "tsconfig.json")
    r = run(str(bin_ / "tsc"), "-p", "tsconfig.json")
    assert r.returncode == 0, r.stdout + r.stderr
    org = new_org()
    env = {**os.environ, "KT_BASE_URL": BASE_URL, "KT_TOKEN": issue_token("region"),
           "KT_ORG": org, "KT_STUDENT": json.dumps(kt_data.student(org=org)),
           # The stack's self-signed server certificate, trusted as an integrator would.
           "NODE_EXTRA_CA_CERTS": str(pathlib.Path(os.environ["KT_TEST_VAR"]) / "tls" / "server.crt")}
    r = subprocess.run(["node", "dist/client.js"], cwd=where, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "created, read, patched, searched"
