"""Health data in the answers to writes, and refused health writes (issue 12, item 1 and the
documented 403 pointer; docs/health.md "Writes").

A write's answer never opens the stored health block, for anyone; whatever personal data it
returns is recorded in the access log like a read (`what`: `write`)."""

import uuid

import pytest

from conftest import assert_problem, ensure_org, issue_token
from kt_data import new_ogrn, student
from test_health import health, marker

ORG = new_ogrn()
OTHER = new_ogrn()
PURPOSE = {"purpose": "проверка ответа на запись"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module", autouse=True)
def schools_of_this_module():
    ensure_org(ORG)
    ensure_org(OTHER)


@pytest.fixture(scope="module")
def tokens():
    return {
        "region": issue_token("region"),
        "region+health": issue_token("region", scope="health"),
        "school own": issue_token("school", org=ORG),
        "school own+health": issue_token("school", org=ORG, scope="health"),
        "school other": issue_token("school", org=OTHER),
        "ministry": issue_token("ministry"),
        "ministry+health": issue_token("ministry", scope="health"),
        "admin": issue_token("admin"),
        "admin+health": issue_token("admin", scope="health"),
    }


def created(client, tok, doc):
    r = client.post("/api/v1/students", token=tok, json=doc)
    assert r.status_code == 201, r.text
    assert "health" not in r.json() and "health_sealed" not in r.text
    return r


def write_entry(raw_store, r):
    """The access-log entry of the write answered by r (one, with what "write"). A create
    flagged as a probable duplicate of a record already on the stack also logs the candidates
    its answer names ("duplicate_candidates", docs/duplicates.md); nothing else may be there."""
    entries = raw_store.access_log(r.headers["X-Request-Id"])
    assert {e["what"] for e in entries} <= {"write", "duplicate_candidates"}, entries
    entries = [e for e in entries if e["what"] == "write"]
    assert len(entries) == 1, entries
    assert "fields" not in entries[0] and "purpose" not in entries[0]
    return entries[0]


@pytest.mark.parametrize("who", ["school own+health", "admin+health"])
def test_empty_patch_answers_without_the_stored_block_and_is_logged(client, tokens, raw_store,
                                                                   who):
    tok = tokens[who]
    r = created(client, tok, student(org=ORG, health=health(marker())))
    sid = r.json()["id"]
    assert write_entry(raw_store, r)["students"] == [sid]
    url = f"/api/v1/students/{sid}"
    r = client.patch(url, token=tok, json={}, headers=MERGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "health" not in body and "health_sealed" not in r.text
    assert body["last_name"] and body["version"] == 1
    assert write_entry(raw_store, r)["students"] == [sid]


def test_real_patch_and_put_do_not_echo_the_block(client, tokens, raw_store):
    tok = tokens["school own+health"]
    doc = student(org=ORG, health=health(marker()))
    sid = created(client, tok, doc).json()["id"]
    url = f"/api/v1/students/{sid}"
    r = client.patch(url, token=tok, json={"birth_place": "г. Набережные Челны"}, headers=MERGE)
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    assert "health" not in r.json()
    write_entry(raw_store, r)
    # The writer's own block is not echoed either: GET with a purpose shows it.
    changed = health(marker(), group="III")
    r = client.put(url, token=tok, json={**doc, "birth_place": "г. Набережные Челны", "health": changed})
    assert r.status_code == 200 and r.json()["version"] == 3, r.text
    assert "health" not in r.json()
    write_entry(raw_store, r)
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == changed
    # A principal without the scope: no block either, and the answer is logged too.
    r = client.patch(url, token=tokens["school own"], json={"birth_place": "г. Уфа"},
                     headers=MERGE)
    assert r.status_code == 200 and "health" not in r.json()
    write_entry(raw_store, r)


def test_event_answer_is_logged(client, tokens, raw_store):
    tok = tokens["admin+health"]
    sid = created(client, tok, student(org=ORG, health=health(marker()))).json()["id"]
    ev = {"type": "ENROLL", "date": "2024-09-01",
          "order": {"number": f"{uuid.uuid4().hex[:6]}-у", "date": "2024-08-28"},
          "organization": ORG, "level": "NOO", "form": "FULL_TIME", "grade": 1,
          "class_letter": "А",
          "program": {"name": "Основная образовательная программа НОО", "code": "НОО-1",
                      "adapted": False}}
    r = client.post(f"/api/v1/students/{sid}/events", token=tokens["region"], json=ev)
    assert r.status_code == 201, r.text
    assert "health" not in r.json()
    assert write_entry(raw_store, r)["students"] == [sid]


REFUSED = ["region", "region+health", "school other", "ministry", "admin"]


@pytest.mark.parametrize("who", REFUSED)
@pytest.mark.parametrize("kind", ["put null", "patch member", "post block"])
def test_refused_health_write_names_the_pointer(client, tokens, who, kind):
    """docs/health.md: 403 FORBIDDEN with pointer /health, decided before the record is read."""
    owner = tokens["admin+health"]
    doc = student(org=ORG, health=health(marker()))
    sid = created(client, owner, doc).json()["id"]
    url = f"/api/v1/students/{sid}"
    tok = tokens[who]
    if kind == "put null":
        r = client.put(url, token=tok, json={**doc, "health": None})
    elif kind == "patch member":
        r = client.patch(url, token=tok, json={"health": {"pe_group": "MAIN"}}, headers=MERGE)
    else:
        r = client.post("/api/v1/students", token=tok,
                        json=student(org=OTHER if who == "school other" else ORG,
                                     health=health(marker())))
    body = assert_problem(r, 403, "FORBIDDEN")
    assert [(e["pointer"], e["code"]) for e in body.get("errors", [])] == \
        [("/health", "FORBIDDEN")], body
