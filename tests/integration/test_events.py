"""Education events through nginx: every rule violation gives its code, a full path of
events with history and trajectory, DOP overlapping, transfers move the student between
schools, If-Match, the read-only `education`, and events as package items."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import assert_problem, ensure_org
from kt_data import SCHOOL_A, SCHOOL_B, ogrn, student

S = "/api/v1/students"
SCHOOL_C = ogrn("104770000000")


@pytest.fixture(scope="module", autouse=True)
def school_c():
    """The DOP school of these tests is in the organisations registry (REF_NOT_FOUND else)."""
    return ensure_org(SCHOOL_C, type="DOP")
PROGRAM = {"name": "Основная образовательная программа НОО", "code": "НОО-1", "adapted": False}


@pytest.fixture
def region(client, token):
    return client.with_token(token("region"))


def order(number="45-у", date="2024-08-28"):
    return {"number": number, "date": date}


def enroll(date="2024-09-01", org=SCHOOL_A, level="NOO", grade=1, letter="А", **extra):
    ev = {"type": "ENROLL", "date": date, "order": order(date=date), "organization": org,
          "level": level, "program": PROGRAM, "form": "FULL_TIME", "financing": "BUDGET"}
    if grade is not None:
        ev["grade"] = grade
    if letter is not None:
        ev["class_letter"] = letter
    ev.update(extra)
    return ev


def event(type_, date, **extra):
    return {"type": type_, "date": date, "order": order(f"{type_[:3]}-1", date), **extra}


def new_student(api, org=SCHOOL_A):
    r = api.post(S, json=student(org=org))
    assert r.status_code == 201, r.text
    return r.json()


def post(api, sid, ev, **kwargs):
    return api.post(f"{S}/{sid}/events", json=ev, **kwargs)


def ok(api, sid, ev, **kwargs):
    r = post(api, sid, ev, **kwargs)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == f'"{r.json()["version"]}"'
    return r.json()


def errors(resp):
    body = assert_problem(resp, 422, "VALIDATION")
    return {(e["pointer"], e["code"]) for e in body["errors"]}


def test_full_path_with_history_and_trajectory(region):
    s = new_student(region)
    sid = s["id"]
    ok(region, sid, enroll())
    ok(region, sid, event("TRANSFER_CLASS", "2025-09-01", grade=2, class_letter="Б"))
    ok(region, sid, event("ACADEMIC_LEAVE", "2025-11-10"))
    ok(region, sid, event("RETURN", "2026-01-12"))
    ok(region, sid, event("TRANSFER_OUT", "2026-02-01", to_organization=SCHOOL_B))
    ok(region, sid, enroll("2026-02-03", SCHOOL_B, grade=2, letter="В", type="TRANSFER_IN"))
    last = ok(region, sid, event("GRADUATE", "2026-05-31"))

    assert last["version"] == s["version"] + 7
    assert last["organization"] == SCHOOL_B
    eps = last["education"]
    assert [e["episode"] for e in eps] == [1, 2]
    first, second = eps
    assert first["organization"] == SCHOOL_A and first["status"] == "ENDED"
    assert first["end_reason"] == "TRANSFER_OUT" and first["transfer_to"] == SCHOOL_B
    assert first["grade"] == 2 and first["class_letter"] == "Б"
    assert first["enroll_order"] == order(date="2024-09-01")
    assert [e["type"] for e in first["events"]] == [
        "ENROLL", "TRANSFER_CLASS", "ACADEMIC_LEAVE", "RETURN", "TRANSFER_OUT"]
    assert second["status"] == "ENDED" and second["end_reason"] == "GRADUATE"
    assert second["ended_on"] == "2026-05-31" and second["events"][0]["type"] == "TRANSFER_IN"
    assert second["program"] == PROGRAM and second["level"] == "NOO"

    hist = region.get(f"{S}/{sid}/history").json()["items"]
    assert len(hist) == 8
    assert any(c["pointer"] == "/organization" for c in hist[1]["changes"])
    assert hist[0]["reason"] == "окончание обучения: приказ № GRA-1 от 31.05.2026"

    t = region.get(f"{S}/{sid}/trajectory")
    assert t.status_code == 200, t.text
    t = t.json()
    assert t["id"] == sid and t["version"] == last["version"]
    segs = [(g["from"], g["to"], g["organization"], g["grade"], g["class_letter"], g["status"])
            for g in t["segments"]]
    assert segs == [
        ("2024-09-01", "2025-09-01", SCHOOL_A, 1, "А", "ACTIVE"),
        ("2025-09-01", "2025-11-10", SCHOOL_A, 2, "Б", "ACTIVE"),
        ("2025-11-10", "2026-01-12", SCHOOL_A, 2, "Б", "LEAVE"),
        ("2026-01-12", "2026-02-01", SCHOOL_A, 2, "Б", "ACTIVE"),
        ("2026-02-03", "2026-05-31", SCHOOL_B, 2, "В", "ACTIVE"),
    ]
    moves = [(m["date"], m["type"], m["from_organization"], m["to_organization"])
             for m in t["moves"]]
    assert moves == [
        ("2024-09-01", "ENROLL", None, SCHOOL_A),
        ("2026-02-01", "TRANSFER_OUT", SCHOOL_A, SCHOOL_B),
        ("2026-02-03", "TRANSFER_IN", SCHOOL_A, SCHOOL_B),
        ("2026-05-31", "GRADUATE", SCHOOL_B, None),
    ]


def test_every_rule_violation_has_its_code(region):
    sid = new_student(region)["id"]
    # Body rules: per-type members, order date, shapes.
    assert errors(post(region, sid, {"date": "2024-09-01"})) >= {
        ("/type", "REQUIRED"), ("/order", "REQUIRED")}
    assert errors(post(region, sid, event("MOVE", "2024-09-01"))) == {("/type", "ENUM")}
    assert errors(post(region, sid, event("ENROLL", "2024-09-01"))) == {
        ("/organization", "REQUIRED"), ("/level", "REQUIRED"), ("/program", "REQUIRED"),
        ("/form", "REQUIRED")}
    assert errors(post(region, sid, enroll(grade=None))) == {("/grade", "REQUIRED")}
    assert errors(post(region, sid, enroll(grade=13))) == {("/grade", "FORMAT")}
    assert errors(post(region, sid, enroll(episode=1))) == {("/episode", "FORBIDDEN")}
    assert errors(post(region, sid, enroll(organization="1027700132194"))) == {
        ("/organization", "OGRN_CHECKSUM")}
    assert errors(post(region, sid, enroll(date="2024-02-30"))) >= {("/date", "DATE_RANGE")}
    assert errors(post(region, sid, enroll(date="2999-01-01"))) >= {("/date", "DATE_RANGE")}
    late = enroll()
    late["order"] = order(date="2024-10-05")
    assert errors(post(region, sid, late)) == {("/order/date", "DATE_ORDER")}
    assert errors(post(region, sid, enroll(level="SPO", program={"name": "x", "code": "1"}))) == {
        ("/program/code", "FORMAT")}
    assert errors(post(region, sid, event("EXPEL", "2024-09-01", grade=3))) == {
        ("/grade", "FORBIDDEN")}
    assert errors(post(region, sid, event("TRANSFER_CLASS", "2024-09-01"))) == {
        ("/grade", "REQUIRED")}
    assert errors(post(region, sid, {**enroll(), "extra": 1})) == {("/extra", "UNKNOWN_FIELD")}
    assert errors(post(region, sid, enroll(date="2010-01-01"))) == {("/date", "DATE_ORDER")}

    # State rules.
    assert errors(post(region, sid, event("EXPEL", "2024-09-01"))) == {
        ("/type", "NO_OPEN_EPISODE")}
    ok(region, sid, enroll())
    assert errors(post(region, sid, enroll("2024-09-02"))) == {("/type", "EPISODE_OPEN")}
    assert errors(post(region, sid, event("RETURN", "2024-10-01"))) == {
        ("/type", "EPISODE_STATE")}
    assert errors(post(region, sid, event("TRANSFER_CLASS", "2024-08-01", grade=2))) == {
        ("/date", "DATE_ORDER")}
    assert errors(post(region, sid, event("EXPEL", "2024-10-01", episode=7))) == {
        ("/episode", "NO_OPEN_EPISODE")}
    assert errors(post(region, sid, event("TRANSFER_OUT", "2024-10-01",
                                          to_organization=SCHOOL_A))) == {
        ("/to_organization", "FORMAT")}
    ok(region, sid, event("ACADEMIC_LEAVE", "2024-10-01"))
    for t, extra in (("ACADEMIC_LEAVE", {}), ("TRANSFER_CLASS", {"grade": 2}),
                     ("GRADUATE", {})):
        assert errors(post(region, sid, event(t, "2024-10-02", **extra))) == {
            ("/type", "EPISODE_STATE")}, t
    assert errors(post(region, sid, event("RETURN", "2024-09-30"))) == {("/date", "DATE_ORDER")}
    ok(region, sid, event("EXPEL", "2024-10-03"))
    assert errors(post(region, sid, enroll("2024-10-02"))) == {("/date", "DATE_ORDER")}
    assert errors(post(region, sid, event("RETURN", "2024-10-04", episode=1))) == {
        ("/episode", "NO_OPEN_EPISODE")}
    # Nothing of the refused events was written.
    cur = region.get(f"{S}/{sid}").json()
    assert [e["type"] for e in cur["education"][0]["events"]] == ["ENROLL", "ACADEMIC_LEAVE",
                                                                  "EXPEL"]


def test_malformed_and_missing(region, client):
    sid = new_student(region)["id"]
    r = region.post(f"{S}/{sid}/events", data=b"{", headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "MALFORMED")
    assert_problem(post(region, str(uuid.uuid4()), enroll()), 404, "NOT_FOUND")
    assert_problem(post(client, sid, enroll()), 401)


def test_dop_episodes_overlap_the_main_one(region):
    sid = new_student(region)["id"]
    ok(region, sid, enroll())
    dop = enroll("2024-10-01", SCHOOL_C, level="DOP", grade=None, letter=None,
                 program={"name": "Шахматы"})
    s = ok(region, sid, dop)
    assert s["organization"] == SCHOOL_A  # DOP does not move the student
    s = ok(region, sid, {**dop, "date": "2024-10-02"})  # two DOP episodes at once
    assert [e["status"] for e in s["education"]] == ["ACTIVE", "ACTIVE", "ACTIVE"]
    s = ok(region, sid, event("EXPEL", "2025-01-10", episode=2))
    assert [e["status"] for e in s["education"]] == ["ACTIVE", "ENDED", "ACTIVE"]
    # Without `episode` an event is about the main episode.
    s = ok(region, sid, event("TRANSFER_CLASS", "2025-09-01", grade=2))
    assert s["education"][0]["grade"] == 2 and "class_letter" not in s["education"][0]
    t = region.get(f"{S}/{sid}/trajectory").json()
    assert [g["level"] for g in t["segments"]] == ["NOO", "DOP", "DOP", "NOO"]
    assert t["segments"][1]["to"] == "2025-01-10" and t["segments"][2]["to"] is None


def test_transfer_changes_which_school_reads(client, token, region):
    a = client.with_token(token("school", org=SCHOOL_A))
    b = client.with_token(token("school", org=SCHOOL_B))
    c = client.with_token(token("school", org=SCHOOL_C))
    sid = new_student(a)["id"]
    ok(a, sid, enroll())
    # A school opens episodes only at itself.
    r = post(a, sid, enroll("2024-10-01", SCHOOL_C, level="DOP", grade=None))
    assert {(e["pointer"], e["code"]) for e in assert_problem(r, 403, "FORBIDDEN")["errors"]} \
        == {("/organization", "FORBIDDEN")}
    assert_problem(b.get(f"{S}/{sid}"), 404)
    assert_problem(post(b, sid, event("TRANSFER_CLASS", "2024-10-01", grade=2)), 404)
    assert_problem(b.get(f"{S}/{sid}/trajectory"), 404)
    # Before the transfer out, school B cannot post the transfer in.
    assert_problem(post(b, sid, enroll("2024-10-02", SCHOOL_B, type="TRANSFER_IN")), 404)
    ok(a, sid, event("TRANSFER_OUT", "2024-10-01", to_organization=SCHOOL_B))
    assert a.get(f"{S}/{sid}").status_code == 200  # still A's until it arrives
    assert_problem(post(c, sid, enroll("2024-10-02", SCHOOL_C, type="TRANSFER_IN")), 404)
    moved = ok(b, sid, enroll("2024-10-02", SCHOOL_B, type="TRANSFER_IN"))
    assert moved["organization"] == SCHOOL_B
    assert b.get(f"{S}/{sid}").status_code == 200
    assert b.get(f"{S}/{sid}/trajectory").status_code == 200
    assert_problem(a.get(f"{S}/{sid}"), 404)
    assert_problem(post(a, sid, event("EXPEL", "2024-10-03")), 404)
    assert region.get(f"{S}/{sid}").json()["organization"] == SCHOOL_B


def test_roles_that_may_not_post(client, token, region):
    sid = new_student(region)["id"]
    for role in ("auditor", "ministry"):
        assert_problem(post(client.with_token(token(role)), sid, enroll()), 403, "FORBIDDEN")
    aud = client.with_token(token("auditor"))
    assert aud.get(f"{S}/{sid}/trajectory").status_code == 200
    log = aud.get("/api/v1/audit/access", params={"student": sid}).json()["items"]
    assert any(e.get("what") == "trajectory" for e in log), log


def test_if_match(region):
    sid = new_student(region)["id"]
    v = region.get(f"{S}/{sid}").json()["version"]
    r = post(region, sid, enroll(), headers={"If-Match": f'"{v + 1}"'})
    assert_problem(r, 412, "VERSION_CONFLICT")
    s = ok(region, sid, enroll(), headers={"If-Match": f'"{v}"'})
    assert s["version"] == v + 1
    assert_problem(post(region, sid, event("EXPEL", "2024-10-01"), headers={"If-Match": '"x"'}),
                   400)


def test_reason_is_kept(region):
    sid = new_student(region)["id"]
    ok(region, sid, enroll(), headers={"X-Reason": "%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7"})
    assert region.get(f"{S}/{sid}/history").json()["items"][0]["reason"] == "приказ"


def test_deleted_student_is_gone(region):
    sid = new_student(region)["id"]
    assert region.delete(f"{S}/{sid}", params={"reason": "дубль"}).status_code == 204
    assert_problem(post(region, sid, enroll()), 410, "GONE")
    assert_problem(region.get(f"{S}/{sid}/trajectory"), 410, "GONE")


def test_education_is_read_only(region):
    s = new_student(region)
    sid = s["id"]
    doc = student()
    doc["education"] = [{"episode": 1}]
    assert errors(region.post(S, json=doc)) == {("/education", "READ_ONLY")}
    cur = ok(region, sid, enroll())
    # GET → PUT round trip: unchanged, no new version.
    body = {k: v for k, v in cur.items()}
    r = region.put(f"{S}/{sid}", json=body)
    assert r.status_code == 200 and r.json()["version"] == cur["version"], r.text
    # Absent: the stored history is kept.
    r = region.put(f"{S}/{sid}", json={**{k: v for k, v in cur.items() if k != "education"},
                                        "birth_place": "г. Елабуга"})
    assert r.status_code == 200 and r.json()["education"] == cur["education"], r.text
    changed = [dict(cur["education"][0], grade=5)]
    assert errors(region.put(f"{S}/{sid}", json={**cur, "education": changed})) == {
        ("/education", "READ_ONLY")}
    r = region.patch(f"{S}/{sid}", json={"education": changed},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert errors(r) == {("/education", "READ_ONLY")}
    # With an open main episode, organization moves only by events.
    r = region.patch(f"{S}/{sid}", json={"organization": SCHOOL_B},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert errors(r) == {("/organization", "READ_ONLY")}
    ok(region, sid, event("EXPEL", "2024-10-01"))
    r = region.patch(f"{S}/{sid}", json={"organization": SCHOOL_B},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["organization"] == SCHOOL_B, r.text


def test_students_without_episodes_keep_todays_behaviour(region):
    s = new_student(region)
    r = region.patch(f"{S}/{s['id']}", json={"organization": SCHOOL_B},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["organization"] == SCHOOL_B
    assert "education" not in r.json()
    t = region.get(f"{S}/{s['id']}/trajectory").json()
    assert t["segments"] == [] and t["moves"] == []


# --- packages ------------------------------------------------------------------------------

NS = "urn:kontingent:exchange:1"
XML = {"Content-Type": "application/xml"}


def q(tag):
    return f"{{{NS}}}{tag}"


def packet(items):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>TEST-07</SourceSystemID>"
            f"<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>").encode()


def event_xml(sid, body, local_id=None, reason=None):
    attrs = f' student="{sid}"' + (f' localId="{local_id}"' if local_id else "") \
        + (f' reason="{reason}"' if reason else "")
    return f"<Event{attrs}>{body}</Event>"


def order_xml(number, date):
    return f"<Order><Number>{number}</Number><Date>{date}</Date></Order>"


def receipt(resp):
    assert resp.status_code == 200, resp.text[:500]
    root = ET.fromstring(resp.content)
    items = [i.attrib | {"errors": [(e.get("code"), e.get("path")) for e in i]}
             for i in root.find(q("Items"))]
    return root.findtext(q("Status")), items


def test_events_in_packages(client, region_cert, region, token):
    sid = new_student(region)["id"]
    enroll_body = ("<Type>ENROLL</Type><Date>2024-09-01</Date>" + order_xml("45-у", "2024-08-28")
                   + f"<Organization>{SCHOOL_A}</Organization><Level>NOO</Level>"
                   "<Program><Name>ООП НОО</Name><Adapted>false</Adapted></Program>"
                   "<Form>FULL_TIME</Form><Grade>1</Grade><ClassLetter>А</ClassLetter>")
    items = [
        event_xml(sid, enroll_body, "e1", "приказ № 45-у"),
        event_xml(sid, "<Type>TRANSFER_CLASS</Type><Date>2025-09-01</Date>"
                  + order_xml("7", "2025-09-01") + "<Grade>2</Grade>", "e2"),
        # Breaks the rules: grade on an expulsion, the order dated too late.
        event_xml(sid, "<Type>EXPEL</Type><Date>2025-09-02</Date>"
                  + order_xml("8", "2025-12-01") + "<Grade>3</Grade>", "e3"),
        # Breaks the state: a return without a leave.
        event_xml(sid, "<Type>RETURN</Type><Date>2025-09-03</Date>" + order_xml("9", "2025-09-03"),
                  "e4"),
        # Breaks the schema.
        event_xml(sid, "<Type>FLY</Type><Date>2025-09-03</Date>" + order_xml("9", "2025-09-03"),
                  "e5"),
        event_xml(str(uuid.uuid4()), "<Type>EXPEL</Type><Date>2025-09-03</Date>"
                  + order_xml("9", "2025-09-03"), "e6"),
    ]
    r = client.post("/api/v1/packages", data=packet(items), headers=XML, cert=region_cert)
    status, got = receipt(r)
    assert status == "PARTIAL"
    assert [(i["localId"], i["result"]) for i in got] == [
        ("e1", "UPDATED"), ("e2", "UPDATED"), ("e3", "REJECTED"), ("e4", "REJECTED"),
        ("e5", "REJECTED"), ("e6", "REJECTED")]
    assert got[0]["id"] == sid and int(got[1]["version"]) == int(got[0]["version"]) + 1
    assert set(got[2]["errors"]) == {("FORBIDDEN", "/Packet/Data/Event[3]/Grade"),
                                     ("DATE_ORDER", "/Packet/Data/Event[3]/Order/Date")}
    assert got[3]["errors"] == [("EPISODE_STATE", "/Packet/Data/Event[4]/Type")]
    assert got[4]["errors"][0][0] == "XSD"
    assert got[5]["errors"][0][0] == "NOT_FOUND"
    cur = region.get(f"{S}/{sid}").json()
    assert [e["type"] for e in cur["education"][0]["events"]] == ["ENROLL", "TRANSFER_CLASS"]
    hist = region.get(f"{S}/{sid}/history").json()["items"]
    assert hist[1]["reason"] == "приказ № 45-у"
    assert hist[0]["reason"] == "перевод в другой класс: приказ № 7 от 01.09.2025"
    # A school's package: events on others' students are NOT_FOUND, as in the API.
    school_b = token("school", org=SCHOOL_B)
    r = client.post("/api/v1/packages", headers={**XML, "Authorization": f"Bearer {school_b}"},
                    data=packet([event_xml(sid, "<Type>EXPEL</Type><Date>2025-09-03</Date>"
                                           + order_xml("9", "2025-09-03"))]))
    if r.status_code == 200:
        _, got = receipt(r)
        assert got[0]["errors"][0][0] == "NOT_FOUND"
    else:
        assert r.status_code == 403


def test_student_items_keep_education_and_export_round_trips(client, region_cert, region):
    import pathlib
    import re
    import xmlschema

    org = ensure_org(ogrn("105770000000"))  # an organisation of this test alone
    sids = [new_student(region, org)["id"] for _ in range(2)]
    ok(region, sids[0], enroll(org=org))
    ok(region, sids[0], event("TRANSFER_CLASS", "2025-09-01", grade=2, class_letter="Б",
                              note="по заявлению"))
    dop = enroll("2024-10-01", SCHOOL_C, level="DOP", grade=None, letter=None,
                 program={"name": "Шахматы", "adapted": True})
    ok(region, sids[1], dop)
    r = client.get("/api/v1/export", cert=region_cert, params={"organization": org})
    assert r.status_code == 200
    xsd = xmlschema.XMLSchema(str(pathlib.Path(__file__).parents[2] / "xsd" /
                                  "kontingent-exchange-1.xsd"))
    xsd.validate(r.content)
    root = ET.fromstring(r.content)
    episodes = root.findall(f".//{q('Episode')}")
    # The export's order of students is its own: look the episodes up by level.
    by_level = {e.findtext(q("Level")): e for e in episodes}
    assert len(episodes) == 2 and by_level["NOO"].findtext(q("Grade")) == "2"
    assert by_level["DOP"].find(q("Grade")) is None
    assert by_level["DOP"].findtext(f"{q('Program')}/{q('Adapted')}") == "true"
    status, again = receipt(client.post("/api/v1/packages", data=r.content, headers=XML,
                                        cert=region_cert))
    assert status == "PROCESSED" and {i["result"] for i in again} == {"UNCHANGED"}, again
    # One student as XML: valid alone, and a changed history is refused.
    x = client.get(f"{S}/{sids[0]}", cert=region_cert, headers={"Accept": "application/xml"})
    assert x.status_code == 200
    xsd.validate(x.content)
    inner = re.sub(r"^<\?xml[^>]*>\s*", "", x.content.decode()).replace(f' xmlns="{NS}"', "")
    status, got = receipt(client.post("/api/v1/packages", data=packet([inner]), headers=XML,
                                      cert=region_cert))
    assert got[0]["result"] == "UNCHANGED"
    changed = inner.replace("<Grade>2</Grade>", "<Grade>3</Grade>", 1)
    status, got = receipt(client.post("/api/v1/packages", data=packet([changed]), headers=XML,
                                      cert=region_cert))
    assert got[0]["errors"] == [("READ_ONLY", "/Packet/Data/Student[1]/Education")]
    # Without Education the history is kept.
    without = re.sub(r"<Education>.*</Education>", "", inner, flags=re.S)
    without = without.replace("<BirthPlace>", "<BirthPlace>с. ")
    status, got = receipt(client.post("/api/v1/packages", data=packet([without]), headers=XML,
                                      cert=region_cert))
    assert got[0]["result"] == "UPDATED", got
    assert region.get(f"{S}/{sids[0]}").json()["education"][0]["grade"] == 2
