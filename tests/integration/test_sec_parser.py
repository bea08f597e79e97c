"""Input parsing hardening (issue 12, items 6, 9, 12 and the tail): receipts and JSON errors
never quote a submitted value, an element's attributes are bounded before libxml2 parses
them, a gzip body inflates within the limit and only one gzip member is accepted, an
invalid audit cursor is 400 at /cursor, and nginx's own 501/505 answers are problem+json."""

import gzip
import uuid

import pytest

from conftest import assert_problem
from kt_data import SCHOOL_A, student
from test_foundation import raw_request, status_of
from test_packages import P, packet, post, student_xml

# Values that break the XSD and are personal or health data: none may come back.
HEALTH_REASON = "F84.0-АУТИЗМ"
SECRETS = (HEALTH_REASON, "ЖЕНСКИЙ", "1122334459Z", "15.01.2015", "SECRETSTATE", "Мухаметзянова")


def broken_items():
    """Three students that break the XSD with the values above."""
    health = student_xml(student()).replace(
        "</Student>",
        f'<Health><Disability group="I"><Reason>{HEALTH_REASON}</Reason></Disability></Health>'
        "</Student>")
    doc = student()
    person = (student_xml(doc).replace(f"<Sex>{doc['sex']}</Sex>", "<Sex>ЖЕНСКИЙ</Sex>")
              .replace(f"<BirthDate>{doc['birth_date']}</BirthDate>",
                       "<BirthDate>15.01.2015</BirthDate>")
              .replace(f"<SNILS>{doc['snils']}</SNILS>", "<SNILS>1122334459Z</SNILS>"))
    state = student_xml(student()).replace("<Student", '<Student state="SECRETSTATE"', 1).replace(
        "</Student>", "<Nickname>Мухаметзянова</Nickname></Student>")
    return [health, person, state]


def receipt_errors(text):
    """Each item's errors (not its warnings: a PROBABLE_DUPLICATE of a record already on the
    stack is no business of these tests)."""
    import xml.etree.ElementTree as ET
    ns = "{urn:kontingent:exchange:1}"
    root = ET.fromstring(text)
    return [[(e.get("code"), e.get("path"), e.text) for e in item if e.tag == ns + "Error"]
            for item in root.find(ns + "Items")]


def assert_no_secret(text):
    for s in SECRETS:
        assert s not in text, f"{s!r} is quoted: {text[:2000]}"


def test_receipt_lines_carry_the_rule_and_path_never_the_value(client, region_cert):
    pid, body = packet(broken_items())
    r = post(client, body, cert=region_cert)
    assert r.status_code == 200, r.text[:500]
    assert_no_secret(r.text)
    errors = receipt_errors(r.content)
    assert len(errors) == 3 and all(errors), errors
    for i, item in enumerate(errors, 1):
        for code, path, text in item:
            assert code == "XSD" and path.startswith(f"/Packet/Data/Student[{i}]"), item
            assert text.startswith("Строка ") and "(XSD: " in text, item
    assert ("XSD", "/Packet/Data/Student[1]/Health/Disability/Reason") in [
        (c, p) for c, p, _ in errors[0]]
    reason = [t for _, p, t in errors[0] if p.endswith("/Reason")][0]
    assert "(XSD: enumeration)" in reason
    assert any(p.endswith("/SNILS") and "(XSD: pattern)" in t for _, p, t in errors[1])
    assert any(p.endswith("/@state") for _, p, _ in errors[2])
    assert any(p.endswith("/Nickname") and "ожидается" in t for _, p, t in errors[2])
    # The stored receipt, as the region and auditors read it later, is the same.
    again = client.get(f"{P}/{pid}", cert=region_cert)
    assert again.status_code == 200
    assert_no_secret(again.text)
    assert receipt_errors(again.content) == errors


def test_json_errors_do_not_echo_values(client, token):
    t = token("region")
    doc = student(sex="ЖЕНСКИЙ", birth_date="15.01.2015", last_name="Мухаметзянова" * 20)
    doc["snils"] = "1122334459Z"
    r = client.post("/api/v1/students", json=doc, token=t)
    body = assert_problem(r, 422, "VALIDATION")
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/sex", "/snils", "/birth_date", "/last_name"} <= pointers, body
    assert_no_secret(r.text)
    # Not even when the JSON itself is broken.
    bad = '{"last_name": "Мухаметзянова", "sex": ЖЕНСКИЙ}'.encode()
    r = client.post("/api/v1/students", data=bad, token=t,
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "MALFORMED")
    assert_no_secret(r.text)


# --- item 9: attributes per element ----------------------------------------------------------


def junk(n):
    return "".join(f' a{i}="x"' for i in range(n))


def test_40000_attributes_are_refused_before_parsing(client, token):
    """The issue's case: one Student with 40 000 junk attributes (429 KB), a school token."""
    t = token("school", org=SCHOOL_A)
    pid, body = packet([student_xml(student()).replace("<Student", "<Student" + junk(40000), 1)])
    assert len(body) > 400_000
    r = client.post(P, data=body, token=t, headers={"Content-Type": "application/xml"})
    problem = assert_problem(r, 400, "MALFORMED")
    assert "больше 32 атрибутов" in problem["detail"], problem
    assert_problem(client.get(f"{P}/{pid}", token=t), 404, "NOT_FOUND")
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("where", ["item", "root", "deep"])
def test_33_attributes_are_refused_anywhere(client, region_cert, where):
    item = student_xml(student())
    if where == "item":
        item = item.replace("<Student", "<Student" + junk(33), 1)
        pid, body = packet([item])
    elif where == "root":
        pid, body = packet([item])
        body = body.replace(b"<Packet ", ("<Packet" + junk(33) + " ").encode(), 1)
    else:
        pid, body = packet([item.replace("<Documents>", "<Documents" + junk(33) + ">", 1)])
    assert_problem(post(client, body, cert=region_cert), 400, "MALFORMED")
    assert_problem(client.get(f"{P}/{pid}", cert=region_cert), 404, "NOT_FOUND")


def test_32_attributes_are_the_schemas_to_judge(client, region_cert):
    """At the bound the package is read: the item is rejected by the XSD, the other applied."""
    _, body = packet([student_xml(student()).replace("<Student", "<Student" + junk(31), 1),
                      student_xml(student())])
    r = post(client, body, cert=region_cert)
    assert r.status_code == 200, r.text[:300]
    errors = receipt_errors(r.content)
    assert errors[0] and errors[0][0][0] == "XSD" and errors[1] == []


# --- item 12 and the tail: gzip --------------------------------------------------------------


def test_gzip_inflating_past_the_limit_is_413_problem(client, region_cert):
    # 200 MiB of one byte in about 200 KB: the limit is 128 MiB.
    import zlib
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"<" * (1 << 20)
    bomb = b"".join(z.compress(chunk) for _ in range(200)) + z.flush()
    r = post(client, bomb, cert=region_cert, headers={"Content-Encoding": "gzip"})
    problem = assert_problem(r, 413, "PAYLOAD_TOO_LARGE")
    assert str(128 << 20) in problem["detail"]  # the limit, in either language


@pytest.mark.parametrize("tail", ["second member", "garbage", "one byte"])
def test_data_after_the_gzip_member_is_400(client, region_cert, tail):
    pid, body = packet([student_xml(student())])
    extra = {"second member": gzip.compress(packet([student_xml(student())])[1]),
             "garbage": b"<Student>hidden</Student>", "one byte": b"\0"}[tail]
    r = post(client, gzip.compress(body) + extra, cert=region_cert,
             headers={"Content-Encoding": "gzip"})
    assert_problem(r, 400, "MALFORMED")
    assert_problem(client.get(f"{P}/{pid}", cert=region_cert), 404, "NOT_FOUND")


def test_one_gzip_member_is_still_read(client, region_cert):
    _, body = packet([student_xml(student())])
    r = post(client, gzip.compress(body), cert=region_cert, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 200 and b'result="CREATED"' in r.content, r.text[:300]


# --- the tail: audit cursors -----------------------------------------------------------------

BAD_CURSORS = ["garbage", "1795929094927", "1795929094927-not-a-uuid",
               "1795929094927-27AD63C4-AA5C-4E46-8D55-9B61DA98C180", "' || '1'=='1", "-1"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_invalid_access_log_cursor_is_400_at_cursor(client, token, cursor):
    r = client.get("/api/v1/audit/access", token=token("auditor"),
                   params={"student": str(uuid.uuid4()), "cursor": cursor})
    body = assert_problem(r, 400, "FORMAT")
    assert [e["pointer"] for e in body.get("errors", [])] == ["/cursor"], body


def test_valid_access_log_cursor_is_taken(client, token):
    cursor = f"{0:013d}-{uuid.uuid4()}"
    r = client.get("/api/v1/audit/access", token=token("auditor"),
                   params={"subject": "nobody-" + uuid.uuid4().hex, "cursor": cursor})
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}, r.text


@pytest.mark.parametrize("cursor", ["garbage", "0", "-5", "1.5"])
def test_invalid_audit_changes_cursor_is_400_at_cursor(client, token, cursor):
    r = client.get("/api/v1/audit/changes", token=token("auditor"),
                   params={"subject": "region-cli", "cursor": cursor})
    body = assert_problem(r, 400, "FORMAT")
    assert [e["pointer"] for e in body.get("errors", [])] == ["/cursor"], body


# --- the tail: nginx's own answers -----------------------------------------------------------


def host():
    import urllib.parse
    from conftest import BASE_URL
    return urllib.parse.urlparse(BASE_URL).netloc


NGINX_OWN = {
    501: lambda: (f"POST /api/v1/students HTTP/1.1\r\nHost: {host()}\r\n"
                  "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n"),
    505: lambda: f"GET /api/v1/health HTTP/2.0\r\nHost: {host()}\r\nConnection: close\r\n\r\n",
}


@pytest.mark.parametrize("status", sorted(NGINX_OWN))
def test_nginx_own_answer_is_problem_json(status):
    raw = raw_request(NGINX_OWN[status]().encode(), timeout=5)
    assert status_of(raw) == status, raw[:300]
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head, raw[:500]
    assert b"<html" not in body.lower(), raw[:500]
    assert f'"status":{status}'.encode() in body, body[:300]
