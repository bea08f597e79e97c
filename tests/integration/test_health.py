"""Health data (phase 2) through nginx: who sees the block in which representation, how
writes without the scope are refused or keep it, that the store holds no plaintext, that
keys can be rotated under concurrent writes, and that a missing or wrong key is a clear
error (docs/health.md)."""

import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import TEST_VAR, assert_problem, ensure_org, run_ctl, wait_for_workers, worker_pids
from kt_data import new_ogrn, student

NS = "urn:kontingent:exchange:1"
ORG = new_ogrn()      # this module's school
OTHER = new_ogrn()    # another school
PURPOSE = {"purpose": "проверка доступа"}
KEYS = TEST_VAR / "keys" / "health.keys"


def health(marker, group="II"):
    """A full health block whose strings carry marker (to find them in the raw store)."""
    return {
        "health_group": group,
        "pe_group": "SPECIAL_A",
        "disability": {"group": "CHILD_DISABLED", "reason": "CHILDHOOD", "from": "2019-02-01",
                       "until": "2030-01-31"},
        "ovz": {"pmpk_conclusion_no": f"ПМПК-{marker}", "date": "2021-04-01",
                "recommended_program": f"АООП НОО вариант 5.1 {marker}"},
        "needs_adapted_program": True,
        "long_term_treatment": {"needed": True, "training_form": "HOME"},
        "legal_basis": {"kind": "CONSENT_WRITTEN", "consent_ref": f"согласие {marker}"},
    }


def marker():
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="module", autouse=True)
def schools_of_this_module():
    """Students name registered organisations (docs/organizations.md)."""
    ensure_org(ORG)
    ensure_org(OTHER)


@pytest.fixture(scope="module")
def tokens():
    from conftest import issue_token as t

    return {
        "region": t("region"),
        "region+health": t("region", scope="health"),
        "school own": t("school", org=ORG),
        "school own+health": t("school", org=ORG, scope="health"),
        "school other+health": t("school", org=OTHER, scope="health"),
        "ministry": t("ministry"),
        "ministry+health": t("ministry", scope="health"),  # pre-split: the health ministry
        "ministry_education+health": t("ministry_education", scope="health"),
        "ministry_health": t("ministry_health"),
        "ministry_health+health": t("ministry_health", scope="health"),
        "auditor": t("auditor"),
        "auditor+health": t("auditor", scope="health"),
        "admin": t("admin"),
        "admin+health": t("admin", scope="health"),
    }


# Which principals see the block; the school of another organisation sees no student at all.
SEES = {"school own+health", "ministry+health", "ministry_health+health", "admin+health"}
NO_STUDENT = {"school other+health"}
# The health ministry reads students, not the education feed or exports (docs/security.md).
HEALTH_MINISTRY = {"ministry+health", "ministry_health", "ministry_health+health"}


def create(client, tok, doc):
    r = client.post("/api/v1/students", token=tok, json=doc)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def subject(tokens):
    """A student of ORG with health, changed twice: v2 changes health only, v3 a name only
    (by a principal without the scope)."""
    import requests
    from conftest import Client

    client = Client(session=requests.Session())
    m1, m2 = marker(), marker()
    doc = student(org=ORG, health=health(m1))
    s = create(client, tokens["admin+health"], doc)
    doc["health"] = health(m2, group="III")
    r = client.put(f"/api/v1/students/{s['id']}", token=tokens["admin+health"], json=doc)
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    plain = {k: v for k, v in doc.items() if k != "health"}
    plain["first_name"] = "Анна"  # an identity change: it needs a reason (docs/api.md)
    r = client.put(f"/api/v1/students/{s['id']}", token=tokens["region"], json=plain,
                   params={"reason": "ошибка в имени"})
    assert r.status_code == 200 and r.json()["version"] == 3, r.text
    assert "health" not in r.json()
    return {"id": s["id"], "snils": doc["snils"], "markers": (m1, m2), "health": doc["health"]}


def representations(client, tok, sid, snils):
    """Every representation of the student this principal can ask for: name → response."""
    url = f"/api/v1/students/{sid}"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    return {
        "json": client.get(url, token=tok, params=PURPOSE),
        "xml": client.get(url, token=tok, params=PURPOSE, headers={"Accept": "application/xml"}),
        "as_of": client.get(url, token=tok, params={**PURPOSE, "as_of": now}),
        "version 1": client.get(f"{url}/versions/1", token=tok, params=PURPOSE),
        "version 3": client.get(f"{url}/versions/3", token=tok, params=PURPOSE),
        "history": client.get(f"{url}/history", token=tok, params=PURPOSE),
        "search": client.get("/api/v1/students", token=tok, params={**PURPOSE, "snils": snils}),
        "export": client.get("/api/v1/export", token=tok,
                             params={**PURPOSE, "organization": ORG}),
        "feed": client.get("/api/v1/changes", token=tok, params={"limit": 500}),
    }


def shows_health(name, r, sid):
    """Whether the response carries the health block (asserting it is well formed)."""
    if name in ("json", "as_of", "version 1", "version 3"):
        return "health" in r.json()
    if name == "xml":
        return ET.fromstring(r.content).find(f"{{{NS}}}Health") is not None
    if name == "history":
        pointers = [c["pointer"] for e in r.json()["items"] for c in e["changes"]]
        return any(p.startswith("/health") for p in pointers)
    if name == "search":
        items = [i for i in r.json()["items"] if i["id"] == sid]
        assert len(items) == 1
        return "health" in items[0]
    if name == "export":
        root = ET.fromstring(r.content)
        mine = [s for s in root.iter(f"{{{NS}}}Student") if s.get("id") == sid]
        assert len(mine) == 1
        return mine[0].find(f"{{{NS}}}Health") is not None
    if name == "feed":
        return "health" in r.text
    raise AssertionError(name)


@pytest.mark.parametrize("who", [
    "region", "region+health", "school own", "school own+health", "school other+health",
    "ministry", "ministry+health", "ministry_education+health", "ministry_health",
    "ministry_health+health", "auditor", "auditor+health", "admin", "admin+health"])
def test_role_by_representation_matrix(client, tokens, subject, who):
    sid, (m1, m2) = subject["id"], subject["markers"]
    for name, r in representations(client, tokens[who], sid, subject["snils"]).items():
        text = r.content.decode()
        assert "health_sealed" not in text and "Health_sealed" not in text, (who, name)
        if who in HEALTH_MINISTRY and name in ("feed", "export"):
            assert_problem(r, 403, "FORBIDDEN")
            continue
        if who in NO_STUDENT and name in ("json", "xml", "as_of", "version 1", "version 3",
                                          "history"):
            assert_problem(r, 404, "NOT_FOUND")
            continue
        if who in NO_STUDENT and name == "export":
            assert_problem(r, 403, "FORBIDDEN")
            continue
        assert r.status_code == 200, (who, name, r.status_code, r.text[:300])
        if who in NO_STUDENT and name == "search":
            assert r.json()["items"] == []
            continue
        if name == "feed":
            assert not shows_health(name, r, sid) and m1 not in text and m2 not in text
            continue
        visible = who in SEES
        assert shows_health(name, r, sid) == visible, (who, name)
        if not visible:
            assert m1 not in text and m2 not in text, (who, name)


def test_scoped_views_hold_the_right_block(client, tokens, subject):
    tok, sid = tokens["ministry+health"], subject["id"]
    url = f"/api/v1/students/{sid}"
    m1, m2 = subject["markers"]
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == subject["health"]
    assert client.get(f"{url}/versions/1", token=tok, params=PURPOSE).json()["health"] == \
        health(m1)
    hist = client.get(f"{url}/history", token=tok, params=PURPOSE).json()["items"]
    by_version = {e["version"]: {c["pointer"]: c for c in e["changes"]} for e in hist}
    # v2 changed the health group and three marked strings, nothing else.
    assert set(by_version[2]) == {"/health/health_group", "/health/ovz/pmpk_conclusion_no",
                                  "/health/ovz/recommended_program",
                                  "/health/legal_basis/consent_ref"}
    assert by_version[2]["/health/health_group"]["old"] == "II"
    assert by_version[2]["/health/health_group"]["new"] == "III"
    # v3 (a region's PUT without health) changed the name only: the block was kept.
    assert set(by_version[3]) == {"/first_name"}
    # Without the scope, v2 shows as a version without visible changes.
    plain = client.get(f"{url}/history", token=tokens["region"]).json()["items"]
    assert [e["changes"] for e in plain if e["version"] == 2] == [[]]


def test_health_reads_need_a_purpose_and_are_logged_with_it(client, tokens, subject, raw_store):
    url = f"/api/v1/students/{subject['id']}"
    tok = tokens["admin+health"]
    r = assert_problem(client.get(url, token=tok), 400, "REQUIRED")
    assert r["errors"][0]["pointer"] == "/purpose"
    assert_problem(client.get(url, token=tok, params={"purpose": "x" * 201}), 400, "FORMAT")
    r = client.get(url, token=tok, headers={"X-Purpose": "%D0%BB%D0%B5%D1%87%D0%B5%D0%BD%D0%B8%D0%B5"})
    assert r.status_code == 200 and "health" in r.json()
    rid = r.headers["X-Request-Id"]
    [entry] = raw_store.access_log(rid)
    assert entry["fields"] == ["health"] and entry["purpose"] == "лечение"
    # A principal without the scope needs no purpose and its reads disclose no health.
    r = client.get(url, token=tokens["ministry"])
    assert r.status_code == 200
    [entry] = raw_store.access_log(r.headers["X-Request-Id"])
    assert "fields" not in entry


def test_writes_without_the_scope(client, tokens, subject):
    sid = subject["id"]
    url = f"/api/v1/students/{sid}"
    cur = client.get(url, token=tokens["region"]).json()
    version = cur["version"]
    for body in ({**cur, "health": health(marker())}, {**cur, "health": {"health_group": "X"}},
                 {**cur, "health": None}, {**cur, "health": "garbage"}):
        for who in ("region", "school own", "ministry", "admin", "auditor+health",
                    "region+health", "ministry_education+health", "ministry+health",
                    "ministry_health+health"):
            r = client.put(url, token=tokens[who], json=body)
            assert_problem(r, 403, "FORBIDDEN")
    for patch in ({"health": None}, {"health": {"health_group": "I"}}):
        r = client.patch(url, token=tokens["ministry"], json=patch,
                         headers={"Content-Type": "application/merge-patch+json"})
        assert_problem(r, 403, "FORBIDDEN")
    r = client.post("/api/v1/students", token=tokens["region"],
                    json=student(org=ORG, health=health(marker())))
    assert_problem(r, 403, "FORBIDDEN")
    # An export → PUT round trip without the scope changes nothing, health included.
    r = client.put(url, token=tokens["ministry"], json=cur)
    assert r.status_code == 200 and r.json()["version"] == version and "health" not in r.json()
    r = client.patch(url, token=tokens["school own"], json={"birth_place": "г. Казань"},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200
    seen = client.get(url, token=tokens["admin+health"], params=PURPOSE).json()
    assert seen["health"] == subject["health"]


def test_writes_with_the_scope(client, tokens):
    tok = tokens["school own+health"]
    doc = student(org=ORG, health=health(marker()))
    s = create(client, tok, doc)
    assert "health" not in s  # a write's answer never carries the block (docs/health.md)
    url = f"/api/v1/students/{s['id']}"
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == doc["health"]
    # The same block again: no new version (the sealed block is reused, no new nonce).
    r = client.put(url, token=tok, json=doc)
    assert r.status_code == 200 and r.json()["version"] == 1
    # Merge-patch one member: the others stay.
    r = client.patch(url, token=tok, json={"health": {"pe_group": "MAIN"}},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["version"] == 2 and "health" not in r.json()
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == \
        {**doc["health"], "pe_group": "MAIN"}
    # Validation of the block, all errors at once.
    bad = {**doc, "health": {**doc["health"], "health_group": "VI",
                             "legal_basis": {"kind": "LAW"},
                             "disability": {"group": "I", "from": "2020-01-01",
                                            "until": "2019-01-01"}}}
    body = assert_problem(client.put(url, token=tok, json=bad), 422, "VALIDATION")
    assert {(e["pointer"], e["code"]) for e in body["errors"]} == {
        ("/health/health_group", "ENUM"), ("/health/legal_basis/law_ref", "REQUIRED"),
        ("/health/disability/until", "DATE_ORDER")}
    no_basis = {**doc, "health": {"health_group": "I"}}
    body = assert_problem(client.put(url, token=tok, json=no_basis), 422, "VALIDATION")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == \
        [("/health/legal_basis", "REQUIRED")]
    # With the scope, a PUT without health removes it.
    plain = {k: v for k, v in doc.items() if k != "health"}
    r = client.put(url, token=tok, json=plain)
    assert r.status_code == 200 and r.json()["version"] == 3 and "health" not in r.json()
    assert "health" not in client.get(url, token=tok, params=PURPOSE).json()


def packet(items):
    pid = str(uuid.uuid4())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{pid}</PacketID><SourceSystemID>TEST-07</SourceSystemID>"
            f"<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>").encode()


def receipt_items(r):
    assert r.status_code == 200, r.text[:500]
    root = ET.fromstring(r.content)
    return [i.attrib | {"errors": [(e.get("code"), e.get("path")) for e in i]}
            for i in root.find(f"{{{NS}}}Items")]


def inner_student(xml_bytes):
    text = re.sub(r"^<\?xml[^>]*>\s*", "", xml_bytes.decode())
    return text.replace(f' xmlns="{NS}"', "")


def test_packages_and_xml_round_trip(client, tokens, region_cert):
    tok = tokens["admin+health"]
    doc = student(org=ORG, health=health(marker()))
    s = create(client, tok, doc)
    url = f"/api/v1/students/{s['id']}"
    xml = client.get(url, token=tok, params=PURPOSE, headers={"Accept": "application/xml"})
    assert ET.fromstring(xml.content).find(f"{{{NS}}}Health/{{{NS}}}LegalBasis").get("kind") == \
        "CONSENT_WRITTEN"
    item = inner_student(xml.content)
    # The XML of a scoped read goes back unchanged, health included.
    items = receipt_items(client.post("/api/v1/packages", token=tok, data=packet([item]),
                                      headers={"Content-Type": "application/xml"}))
    assert items[0]["result"] == "UNCHANGED", items
    # The same item from a regional system (no health scope) is rejected, nothing else.
    items = receipt_items(client.post("/api/v1/packages", cert=region_cert, data=packet([item]),
                                      headers={"Content-Type": "application/xml"}))
    assert items[0]["result"] == "REJECTED" and items[0]["errors"][0][0] == "FORBIDDEN"
    # A changed block through XML: the model's rules apply (until before from).
    changed = item.replace("<Until>2030-01-31</Until>", "<Until>2018-01-01</Until>")
    items = receipt_items(client.post("/api/v1/packages", token=tok, data=packet([changed]),
                                      headers={"Content-Type": "application/xml"}))
    assert items[0]["result"] == "REJECTED"
    assert items[0]["errors"] == [("DATE_ORDER", "/Packet/Data/Student[1]/Health/Disability/Until")]
    changed = item.replace("<NeedsAdaptedProgram>true</NeedsAdaptedProgram>",
                           "<NeedsAdaptedProgram>false</NeedsAdaptedProgram>")
    items = receipt_items(client.post("/api/v1/packages", token=tok, data=packet([changed]),
                                      headers={"Content-Type": "application/xml"}))
    assert items[0]["result"] == "UPDATED" and items[0]["version"] == "2"
    seen = client.get(url, token=tok, params=PURPOSE).json()
    assert seen["health"] == {**doc["health"], "needs_adapted_program": False}
    # The region's view (no Health) imported back by the region keeps the block.
    plain = client.get(url, cert=region_cert, headers={"Accept": "application/xml"})
    assert b"Health" not in plain.content
    items = receipt_items(client.post("/api/v1/packages", cert=region_cert,
                                      data=packet([inner_student(plain.content)]),
                                      headers={"Content-Type": "application/xml"}))
    assert items[0]["result"] == "UNCHANGED", items
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == seen["health"]


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from all_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from all_strings(v)
    elif isinstance(value, bytes):
        yield value.decode("latin-1")


def test_store_holds_no_plaintext(client, tokens, subject, raw_store):
    m = marker()
    doc = student(org=ORG, health=health(m))
    s = create(client, tokens["admin+health"], doc)
    doc["health"]["ovz"]["date"] = "2022-02-02"
    r = client.put(f"/api/v1/students/{s['id']}", token=tokens["admin+health"], json=doc)
    assert r.status_code == 200
    secrets = [m, *subject["markers"], "CHILD_DISABLED", "SPECIAL_A", "CONSENT_WRITTEN",
               "2022-02-02", "pmpk_conclusion_no", "legal_basis"]
    for where, d in raw_store.documents():
        for text in all_strings(d):
            for secret in secrets:
                assert secret not in text, (where, secret)
    version = raw_store.version("student", s["id"], 2)
    sealed = version["doc"]["health_sealed"]
    assert set(sealed) == {"kid", "nonce", "ct", "tag"}
    assert raw_store.health_key(sealed["kid"])["wraps"]


def replace_keys(text):
    """Writes the key file and restarts the workers so that they read it."""
    old = worker_pids()
    if text is None:
        KEYS.unlink()
    else:
        KEYS.write_text(text)
        KEYS.chmod(0o600)
    from conftest import master_pid
    import os
    import signal

    os.kill(master_pid(), signal.SIGHUP)
    wait_for_workers(exclude=old)


def test_missing_or_wrong_key_is_a_clear_error(client, tokens, subject):
    saved = KEYS.read_text()
    url = f"/api/v1/students/{subject['id']}"
    tok = tokens["admin+health"]
    try:
        replace_keys(None)
        assert_problem(client.get(url, token=tok, params=PURPOSE), 503, "KEY_UNAVAILABLE")
        assert_problem(client.get(f"{url}/history", token=tok, params=PURPOSE), 503,
                       "KEY_UNAVAILABLE")
        assert_problem(client.get("/api/v1/export", token=tok,
                                  params={**PURPOSE, "organization": ORG}), 503,
                       "KEY_UNAVAILABLE")
        assert_problem(client.post("/api/v1/students", token=tok,
                                   json=student(org=ORG, health=health(marker()))), 503,
                       "KEY_UNAVAILABLE")
        # Everyone else is served as before: they never need a key.
        r = client.get(url, token=tokens["region"])
        assert r.status_code == 200 and "health" not in r.json()
        # A key of the same id with other bytes: the tag does not match, no garbage.
        wrong = "".join(line.split(" ")[0] + " " + "A" * 43 + "=\n"
                        for line in saved.splitlines() if line and not line.startswith("#"))
        replace_keys(wrong)
        body = assert_problem(client.get(url, token=tok, params=PURPOSE), 500, "INTEGRITY")
        assert "health" not in json.dumps(body)
    finally:
        replace_keys(saved)
    assert client.get(url, token=tok, params=PURPOSE).status_code == 200


def test_rotation_under_concurrent_writes_loses_nothing(client, tokens):
    from conftest import Client

    tok = tokens["admin+health"]
    doc = student(org=ORG, health=health("rot-0"))
    s = create(client, tok, doc)
    url = f"/api/v1/students/{s['id']}"
    expected = {1: "rot-0"}
    stop = threading.Event()
    failures = []

    def writer():
        w = Client(session=__import__("requests").Session())
        i = 0
        while not stop.is_set() and i < 400:
            i += 1
            doc["health"] = health(f"rot-{i}")
            r = w.put(url, token=tok, json=doc)
            if r.status_code != 200:
                failures.append((r.status_code, r.text[:200]))
                continue
            expected[r.json()["version"]] = f"rot-{i}"

    t = threading.Thread(target=writer)
    before = worker_pids()
    t.start()
    try:
        time.sleep(0.5)
        out = run_ctl("keys", "rotate", "--grace", "1", timeout=300).stdout
        assert "told the service" in out and "re-wrapped" in out
        wait_for_workers(exclude=before)  # the workers now hold the new key
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert failures == []
    # Keys written by workers that still held only the old key during the switch.
    run_ctl("keys", "rewrap")
    status = run_ctl("keys", "status").stdout
    assert "re-wrap complete" in status
    current = [line.split()[0] for line in status.splitlines() if "(current)" in line][0]
    old = [line.split()[0] for line in status.splitlines()
           if line.startswith("  k") and "(current)" not in line]
    # Retire the old keys: every version must still open, with its own block.
    assert old
    for kid in old:
        before = worker_pids()
        run_ctl("keys", "retire", kid)
        wait_for_workers(exclude=before)  # workers that hold no retired key
    assert run_ctl("keys", "retire", current, check=False).returncode != 0
    assert KEYS.read_text().count("\nk") == 1 and f"\n{current} " in KEYS.read_text()
    assert len(expected) > 3
    for version, m in expected.items():
        r = client.get(f"{url}/versions/{version}", token=tok, params=PURPOSE)
        assert r.status_code == 200, (version, r.text)
        assert r.json()["health"]["legal_basis"]["consent_ref"] == f"согласие {m}", version


def test_events_keep_the_block_and_answer_without_it(client, tokens):
    """An enrolment event keeps the sealed block (education is appended after it), its
    answer carries no block, and the same document sent back afterwards changes nothing."""
    tok = tokens["admin+health"]
    doc = student(org=ORG, health=health(marker()))
    s = create(client, tok, doc)
    url = f"/api/v1/students/{s['id']}"
    ev = {"type": "ENROLL", "date": "2024-09-01",
          "order": {"number": "45-у", "date": "2024-08-28"}, "organization": ORG,
          "level": "NOO", "form": "FULL_TIME", "grade": 1, "class_letter": "А",
          "program": {"name": "Основная образовательная программа НОО", "code": "НОО-1",
                      "adapted": False}}
    r = client.post(f"{url}/events", token=tokens["region"], json=ev)
    assert r.status_code == 201, r.text
    assert "health" not in r.json() and "health_sealed" not in r.text
    version = r.json()["version"]
    seen = client.get(url, token=tok, params=PURPOSE).json()
    assert seen["health"] == doc["health"] and seen["education"][0]["level"] == "NOO"
    # Sent back as read, with or without the scope: no new version.
    r = client.put(url, token=tok, json=seen)
    assert r.status_code == 200 and r.json()["version"] == version, r.text
    plain = client.get(url, token=tokens["region"]).json()
    r = client.put(url, token=tokens["region"], json=plain)
    assert r.status_code == 200 and r.json()["version"] == version, r.text
    assert client.get(url, token=tok, params=PURPOSE).json()["health"] == doc["health"]


def test_audit_changes_show_no_sealed_block(client, tokens, subject):
    """What a principal changed (the auditors' view of versions) leaves the sealed block out."""
    r = client.get("/api/v1/audit/changes", token=tokens["auditor"],
                   params={"subject": "admin-cli", "limit": 500})
    assert r.status_code == 200, r.text
    entries = [e for e in r.json()["items"] if e.get("student_id") == subject["id"]]
    assert entries and "health_sealed" not in r.text and "/health" not in r.text
    m1, m2 = subject["markers"]
    assert m1 not in r.text and m2 not in r.text
