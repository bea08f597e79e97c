"""The auditors' endpoints through nginx: the access log by student, subject and period; what a
subject changed (/audit/changes); per-student chain verification; the last full verify run;
and that only auditors and admins may call any of them."""

import uuid

import pytest

from conftest import assert_problem, run_ctl
from kt_data import SCHOOL_A, student

S = "/api/v1/students"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _sub(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def auditor(token):
    return token("auditor", sub=_sub("auditor"))


@pytest.fixture(scope="module")
def edited(client_module, token):
    """A student created and changed twice by one region subject, read by a ministry subject."""
    editor_sub, reader_sub = _sub("editor"), _sub("reader")
    editor = token("region", sub=editor_sub)
    c = client_module
    r = c.post(S, token=editor, json=student(), params={"reason": "приказ № 1"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    for i, patch in enumerate(['{"last_name": "Петрова"}', '{"birth_place": "г. Елабуга"}']):
        r = c.patch(f"{S}/{sid}", token=editor, data=patch.encode(), headers=MERGE,
                    params={"reason": f"приказ № {i + 2}"})
        assert r.status_code == 200, r.text
    assert c.get(f"{S}/{sid}", token=token("ministry", sub=reader_sub)).status_code == 200
    return {"id": sid, "editor": editor_sub, "reader": reader_sub}


@pytest.fixture(scope="module")
def client_module():
    from conftest import Client

    c = Client()
    c.session.verify = False
    yield c
    c.close()


# --- who may call them ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["region", "school", "ministry"])
def test_audit_endpoints_refuse_other_roles(client, token, edited, role):
    tok = token(role, org=SCHOOL_A if role == "school" else None)
    for path, params in [
        ("/api/v1/audit/access", {"student": edited["id"]}),
        ("/api/v1/audit/changes", {"subject": edited["editor"]}),
        (f"{S}/{edited['id']}/verify", {}),
        ("/api/v1/audit/verify/last", {}),
    ]:
        assert_problem(client.get(path, token=tok, params=params), 403, "FORBIDDEN")


def test_admin_may_audit(client, token, edited):
    admin = token("admin")
    assert client.get("/api/v1/audit/changes", token=admin,
                      params={"subject": edited["editor"]}).status_code == 200


# --- the access log ---------------------------------------------------------------------------


def test_access_log_by_student_and_subject_together(client, auditor, edited):
    r = client.get("/api/v1/audit/access", token=auditor,
                   params={"student": edited["id"], "subject": edited["reader"]})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(e["principal"]["subject"] == edited["reader"] for e in items)
    assert all(edited["id"] in e["students"] for e in items)
    assert {e["what"] for e in items} == {"student"}


def test_access_log_period(client, auditor, edited):
    base = {"student": edited["id"]}
    everything = client.get("/api/v1/audit/access", token=auditor, params=base).json()["items"]
    t = everything[-1]["time"]  # the oldest entry
    at = client.get("/api/v1/audit/access", token=auditor,
                    params={**base, "from": t, "to": t}).json()["items"]
    assert at and all(e["time"] == t for e in at)
    future = client.get("/api/v1/audit/access", token=auditor,
                        params={**base, "from": "2999-01-01T00:00:00Z"}).json()
    assert future == {"items": [], "next_cursor": None}
    past = client.get("/api/v1/audit/access", token=auditor,
                      params={**base, "to": "2000-01-01T00:00:00.5Z"}).json()
    assert past["items"] == []


def test_access_log_pages_with_the_cursor(client, auditor, edited):
    seen, cursor = [], None
    while True:
        params = {"student": edited["id"], "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/audit/access", token=auditor, params=params).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 2
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("params", [
    {},
    {"from": "2026-01-01T00:00:00Z"},
    {"student": "x", "from": "yesterday"},
    {"subject": "x", "to": "2026-13-01T00:00:00Z"},
    {"subject": "x", "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    {"subject": ""},
    {"subject": "x" * 256},
])
def test_access_log_bad_queries(client, auditor, params):
    assert_problem(client.get("/api/v1/audit/access", token=auditor, params=params), 400, "FORMAT")


# --- what a subject changed -------------------------------------------------------------------


def test_changes_by_subject(client, auditor, edited):
    r = client.get("/api/v1/audit/changes", token=auditor, params={"subject": edited["editor"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    items = body["items"]
    assert [(e["student_id"], e["version"]) for e in items] == [(edited["id"], v) for v in (3, 2, 1)]
    # version 2 changed the last name: an identity change (docs/api.md)
    assert [e["kind"] for e in items] == ["update", "identity_change", "create"]
    assert items[1]["reason"] == "приказ № 2"
    assert items[1]["principal"]["subject"] == edited["editor"]
    assert "request_id" in items[1]["source"]
    assert {"pointer": "/last_name", "old": "Иванова", "new": "Петрова"} in items[1]["changes"]


def test_changes_pages_and_periods(client, auditor, edited):
    q = {"subject": edited["editor"]}
    first = client.get("/api/v1/audit/changes", token=auditor, params={**q, "limit": 2}).json()
    assert [e["version"] for e in first["items"]] == [3, 2]
    rest = client.get("/api/v1/audit/changes", token=auditor,
                      params={**q, "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["version"] for e in rest["items"]] == [1] and rest["next_cursor"] is None
    t2 = first["items"][1]["time"]
    upto = client.get("/api/v1/audit/changes", token=auditor, params={**q, "to": t2}).json()
    assert [e["version"] for e in upto["items"]] == [2, 1]
    since = client.get("/api/v1/audit/changes", token=auditor, params={**q, "from": t2}).json()
    assert [e["version"] for e in since["items"]] == [3, 2]
    nobody = client.get("/api/v1/audit/changes", token=auditor, params={"subject": _sub("x")})
    assert nobody.json() == {"items": [], "next_cursor": None}


def test_reading_changes_is_itself_logged(client, token, edited):
    sub = _sub("auditor")
    tok = token("auditor", sub=sub)
    r = client.get("/api/v1/audit/changes", token=tok, params={"subject": edited["editor"]})
    assert r.status_code == 200
    log = client.get("/api/v1/audit/access", token=tok, params={"subject": sub}).json()["items"]
    assert [(e["what"], e["students"], e["request_id"]) for e in log] == [
        ("audit_changes", [edited["id"]], r.headers["X-Request-Id"])]


@pytest.mark.parametrize("params", [
    {}, {"subject": ""}, {"subject": "x", "cursor": "abc"}, {"subject": "x", "cursor": "0"},
    {"subject": "x", "limit": "0"}, {"subject": "x", "from": "2026-01-01"},
])
def test_changes_bad_queries(client, auditor, params):
    assert_problem(client.get("/api/v1/audit/changes", token=auditor, params=params), 400, "FORMAT")


# --- verification -----------------------------------------------------------------------------


def test_verify_one_student(client, auditor, edited):
    r = client.get(f"{S}/{edited['id']}/verify", token=auditor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["student_id"] == edited["id"]
    assert body["ok"] is True and body["versions"] == 3
    assert body["broken_version"] is None and body["problem"] is None
    assert body["head_lags"] is False
    assert_problem(client.get(f"{S}/{uuid.uuid4()}/verify", token=auditor), 404, "NOT_FOUND")


def test_verify_finds_a_tampered_version_and_the_last_run_names_it(client, auditor, token,
                                                                  raw_store):
    region = token("region")
    r = client.post(S, token=region, json=student())
    sid = r.json()["id"]
    client.patch(f"{S}/{sid}", token=region, data=b'{"birth_place": "V2"}', headers=MERGE)
    restore = raw_store.tamper("student", sid, 1, "first_name", "Подделка")
    try:
        body = client.get(f"{S}/{sid}/verify", token=auditor).json()
        assert body["ok"] is False and body["broken_version"] == 1
        assert "does not match its hash" in body["problem"]
        assert run_ctl("verify", check=False).returncode == 1
        last = client.get("/api/v1/audit/verify/last", token=auditor).json()
        assert last["ok"] is False and last["broken"] >= 1 and sid in last["broken_students"]
    finally:
        restore()
    assert client.get(f"{S}/{sid}/verify", token=auditor).json()["ok"] is True
    run_ctl("verify")
    last = client.get("/api/v1/audit/verify/last", token=auditor).json()
    assert last["ok"] is True and last["broken"] == 0 and last["broken_students"] == []
    assert last["students"] >= 1 and last["versions"] >= 2
