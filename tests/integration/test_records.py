"""Phase 3 through nginx: achievements, exam results and certificates as members of the
student — every field's validation with its pointer, the rules by exam kind and for ГТО,
history with field-level changes of an exam, as_of, search and the change feed, and the
XML round trip (package item → JSON view → export → package again, all UNCHANGED) with the
XML view valid by an independent XSD validator (xmlschema)."""

import copy
import io
import json
import pathlib
import re
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from conftest import assert_problem, new_org, run_ctl
from kt_data import student

S = "/api/v1/students"
P = "/api/v1/packages"
NS = "urn:kontingent:exchange:1"
MERGE = {"Content-Type": "application/merge-patch+json"}
XSD = pathlib.Path(__file__).resolve().parents[2] / "xsd" / "kontingent-exchange-1.xsd"

ACHIEVEMENT = {
    "kind": "OLYMPIAD",
    "title": "Призёр регионального этапа ВсОШ",
    "event_name": "Всероссийская олимпиада школьников",
    "level": "REGIONAL",
    "subject": "Математика",
    "result": "PRIZE_WINNER",
    "place": 3,
    "date": "2025-01-22",
    "organizer": "Минобрнауки РТ",
    "document": {"number": "РЭ-17", "date": "2025-02-03", "url": "https://olymp.example/d/17"},
}
GTO = {"kind": "GTO", "title": "Золотой знак ГТО", "level": "FEDERAL", "result": "WINNER",
       "badge": "GOLD", "date": "2024-05-30"}
EXAM = {"kind": "OGE", "year": 2024, "subject_code": "1", "subject": "Русский язык",
        "score": 31, "mark": 5, "passed": True}
EGE = {"kind": "EGE", "year": 2025, "subject_code": "2", "subject": "Математика",
       "score": 80, "passed": True}
CERTIFICATE = {"type": "ATTESTAT_OOO", "number": "16024000123456", "issued_on": "2024-06-28",
               "with_honors": True, "organization": "1021600001235"}


def with_records(**overrides):
    doc = student(birth_date="2008-04-11")
    doc["documents"][0]["issued_on"] = "2008-04-20"
    doc.update(achievements=[ACHIEVEMENT, GTO], exams=[EXAM, EGE], certificates=[CERTIFICATE])
    doc.update(overrides)
    return doc


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="records-tests")


def create(client, tok, doc):
    r = client.post(S, token=tok, json=doc)
    assert r.status_code == 201, r.text
    return r.json()


def errors(resp):
    body = assert_problem(resp, 422, "VALIDATION")
    return {(e["pointer"], e["code"]) for e in body["errors"]}


def test_records_are_stored_with_json_types(client, region):
    doc = with_records()
    body = create(client, region, doc)
    assert body["achievements"] == [ACHIEVEMENT, GTO]
    assert body["exams"] == [EXAM, EGE]
    assert body["certificates"] == [CERTIFICATE]
    # Integers are JSON numbers and booleans true/false, not strings.
    assert type(body["exams"][0]["year"]) is int and body["exams"][0]["passed"] is True
    assert type(body["achievements"][0]["place"]) is int
    got = client.get(f"{S}/{body['id']}", token=region).json()
    assert got == body
    keys = list(got)
    assert (keys.index("organization") < keys.index("achievements") < keys.index("exams")
            < keys.index("certificates"))


# (array, changes to its valid item, pointer below the item, code): one error each.
FIELD_CASES = [
    ("achievements", {"kind": "HOBBY"}, "/kind", "ENUM"),
    ("achievements", {"kind": None}, "/kind", "REQUIRED"),
    ("achievements", {"title": " "}, "/title", "REQUIRED"),
    ("achievements", {"title": "x" * 501}, "/title", "FORMAT"),
    ("achievements", {"event_name": "x" * 501}, "/event_name", "FORMAT"),
    ("achievements", {"level": "GALACTIC"}, "/level", "ENUM"),
    ("achievements", {"level": None}, "/level", "REQUIRED"),
    ("achievements", {"subject": "x" * 201}, "/subject", "FORMAT"),
    ("achievements", {"result": "LOSER"}, "/result", "ENUM"),
    ("achievements", {"result": None}, "/result", "REQUIRED"),
    ("achievements", {"place": 0}, "/place", "FORMAT"),
    ("achievements", {"place": 1001}, "/place", "FORMAT"),
    ("achievements", {"place": "3"}, "/place", "FORMAT"),
    ("achievements", {"place": 2.5}, "/place", "FORMAT"),
    ("achievements", {"badge": "GOLD"}, "/badge", "FORMAT"),
    ("achievements", {"date": None}, "/date", "REQUIRED"),
    ("achievements", {"date": "22.01.2025"}, "/date", "FORMAT"),
    ("achievements", {"date": "2999-01-01"}, "/date", "DATE_RANGE"),
    ("achievements", {"date": "2008-04-10"}, "/date", "DATE_ORDER"),
    ("achievements", {"organizer": "x" * 501}, "/organizer", "FORMAT"),
    ("achievements", {"organizer": {"$gt": ""}}, "/organizer", "FORMAT"),
    ("achievements", {"rank": 1}, "/rank", "UNKNOWN_FIELD"),
    ("achievements", {"document": {"number": None, "date": None, "url": None}}, "/document",
     "REQUIRED"),
    ("achievements", {"document": {"number": "x" * 101}}, "/document/number", "FORMAT"),
    ("achievements", {"document": {"date": "2008-01-01"}}, "/document/date", "DATE_ORDER"),
    ("achievements", {"document": {"url": "ftp://x.example/a"}}, "/document/url", "FORMAT"),
    ("achievements", {"document": {"url": "https://x.example/" + "a" * 1990}}, "/document/url",
     "FORMAT"),
    ("exams", {"kind": "ENT"}, "/kind", "ENUM"),
    ("exams", {"year": None}, "/year", "REQUIRED"),
    ("exams", {"year": 1999}, "/year", "FORMAT"),
    ("exams", {"year": 2999}, "/year", "FORMAT"),
    ("exams", {"year": "2024"}, "/year", "FORMAT"),
    ("exams", {"year": 2007}, "/year", "DATE_ORDER"),
    ("exams", {"subject_code": "рус"}, "/subject_code", "FORMAT"),
    ("exams", {"subject_code": "1" * 21}, "/subject_code", "FORMAT"),
    ("exams", {"subject": None}, "/subject", "REQUIRED"),
    ("exams", {"subject": "x" * 201}, "/subject", "FORMAT"),
    ("exams", {"score": -1}, "/score", "FORMAT"),
    ("exams", {"score": 101}, "/score", "FORMAT"),
    ("exams", {"mark": 1}, "/mark", "FORMAT"),
    ("exams", {"mark": 6}, "/mark", "FORMAT"),
    ("exams", {"passed": "true"}, "/passed", "FORMAT"),
    ("certificates", {"type": "DIPLOMA_VO"}, "/type", "ENUM"),
    ("certificates", {"series": "x" * 21}, "/series", "FORMAT"),
    ("certificates", {"number": None}, "/number", "REQUIRED"),
    ("certificates", {"number": "1602400012345"}, "/number", "FORMAT"),
    ("certificates", {"type": "DIPLOMA_SPO", "number": "x" * 31}, "/number", "FORMAT"),
    ("certificates", {"issued_on": None}, "/issued_on", "REQUIRED"),
    ("certificates", {"issued_on": "2008-04-10"}, "/issued_on", "DATE_ORDER"),
    ("certificates", {"issued_on": "2999-06-28"}, "/issued_on", "DATE_RANGE"),
    ("certificates", {"with_honors": 1}, "/with_honors", "FORMAT"),
    ("certificates", {"organization": "1021600001234"}, "/organization", "OGRN_CHECKSUM"),
]

BASE_ITEMS = {"achievements": ACHIEVEMENT, "exams": EXAM, "certificates": CERTIFICATE}


def item_with(array, changes):
    item = copy.deepcopy(BASE_ITEMS[array])
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(item.get(k), dict):
            item[k] = {**item[k], **v}
        else:
            item[k] = v
    return item


@pytest.mark.parametrize("array,changes,pointer,code", FIELD_CASES,
                         ids=[f"{a}{p}-{c}" for a, _, p, c in FIELD_CASES])
def test_each_field_is_validated_at_its_pointer(client, region, array, changes, pointer, code):
    good = item_with(array, {})
    doc = with_records(**{array: [good, item_with(array, changes)]})
    assert errors(client.post(S, token=region, json=doc)) == {(f"/{array}/1{pointer}", code)}


# Exam kinds: (item, expected errors below /exams/0; empty: valid).
KIND_CASES = [
    ({"kind": "EGE", "score": 0}, set()),
    ({"kind": "EGE", "score": 100, "passed": False}, set()),
    ({"kind": "EGE"}, {("/score", "REQUIRED")}),
    ({"kind": "EGE", "score": 70, "mark": 4}, {("/mark", "FORMAT")}),
    ({"kind": "OGE", "score": 20}, set()),
    ({"kind": "OGE", "mark": 4}, set()),
    ({"kind": "OGE", "score": 20, "mark": 4}, set()),
    ({"kind": "OGE"}, {("/mark", "REQUIRED")}),
    ({"kind": "GVE9", "mark": 3}, set()),
    ({"kind": "GVE11", "mark": 5, "passed": True}, set()),
    ({"kind": "INTERMEDIATE", "mark": 2, "passed": False}, set()),
    ({"kind": "FINAL_MARK", "mark": 4}, set()),
    ({"kind": "GVE9", "score": 20}, {("/mark", "REQUIRED"), ("/score", "FORMAT")}),
    ({"kind": "GVE11", "mark": 4, "score": 60}, {("/score", "FORMAT")}),
    ({"kind": "INTERMEDIATE"}, {("/mark", "REQUIRED")}),
    ({"kind": "FINAL_MARK", "mark": 2, "passed": True}, {("/passed", "FORMAT")}),
    ({"kind": "OGE", "mark": 3, "passed": False}, {("/passed", "FORMAT")}),
]


@pytest.mark.parametrize("item,want", KIND_CASES, ids=lambda v: str(v))
def test_exam_rules_by_kind(client, region, item, want):
    exam = {"year": 2025, "subject": "Химия", **item}
    r = client.post(S, token=region, json=with_records(exams=[exam]))
    if not want:
        assert r.status_code == 201, r.text
        assert r.json()["exams"] == [exam]
    else:
        assert errors(r) == {(f"/exams/0{p}", c) for p, c in want}


GTO_CASES = [
    ({"result": "PARTICIPANT", "badge": None}, set()),
    ({"result": "WINNER", "badge": None}, {("/badge", "REQUIRED")}),
    ({"result": "PRIZE_WINNER"}, {("/result", "ENUM")}),
    ({"result": "PARTICIPANT", "badge": "SILVER"}, {("/badge", "FORMAT")}),
    ({"place": 1}, {("/place", "FORMAT")}),
    ({"badge": "PLATINUM"}, {("/badge", "ENUM")}),
]


@pytest.mark.parametrize("changes,want", GTO_CASES, ids=lambda v: str(v))
def test_gto_rules(client, region, changes, want):
    gto = {k: v for k, v in {**GTO, **changes}.items() if v is not None}
    r = client.post(S, token=region, json=with_records(achievements=[gto]))
    if not want:
        assert r.status_code == 201, r.text
    else:
        assert errors(r) == {(f"/achievements/0{p}", c) for p, c in want}


def test_array_limits(client, region):
    def post(**arrays):
        return client.post(S, token=region, json=with_records(**arrays))

    assert errors(post(certificates=[CERTIFICATE] * 11)) == {("/certificates", "FORMAT")}
    assert errors(post(exams=[EXAM] * 301)) == {("/exams", "FORMAT")}
    assert errors(post(achievements=[GTO] * 201)) == {("/achievements", "FORMAT")}
    assert errors(post(exams={"kind": "EGE"})) == {("/exams", "FORMAT")}
    body = create(client, region, with_records(exams=[EGE] * 300, certificates=[]))
    assert len(body["exams"]) == 300 and "certificates" not in body


def test_history_as_of_search_and_feed_carry_an_exam_change(client, region):
    s = create(client, region, with_records())
    url = f"{S}/{s['id']}"
    changed = dict(EGE, score=86)
    third = {"kind": "FINAL_MARK", "year": 2026, "subject": "Физика", "mark": 4}
    time.sleep(0.01)  # versions a clock tick apart, for as_of below
    r = client.patch(url, token=region, data=json.dumps({"exams": [EXAM, changed, third]}),
                     headers={**MERGE, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"' and r.json()["exams"] == [EXAM, changed, third]
    hist = client.get(f"{url}/history", token=region).json()["items"]
    assert [h["version"] for h in hist] == [2, 1]
    assert hist[0]["changes"] == [
        {"pointer": "/exams/1/score", "old": 80, "new": 86},
        {"pointer": "/exams/2", "old": None, "new": third},
    ]
    # Booleans and removals are field-level too.
    r = client.patch(url, token=region, data='{"certificates": [{"type": "ATTESTAT_OOO", '
                     '"number": "16024000123456", "issued_on": "2024-06-28", '
                     '"with_honors": false}]}', headers=MERGE)
    assert r.status_code == 200, r.text
    hist = client.get(f"{url}/history", token=region).json()["items"]
    assert hist[0]["changes"] == [
        {"pointer": "/certificates/0/with_honors", "old": True, "new": False},
        {"pointer": "/certificates/0/organization", "old": "1021600001235", "new": None},
    ]
    v1_time = hist[-1]["time"]
    old = client.get(url, token=region, params={"as_of": v1_time}).json()
    assert old["version"] == 1 and old["exams"] == [EXAM, EGE]
    assert old["certificates"] == [CERTIFICATE]
    v2 = client.get(f"{url}/versions/2", token=region).json()
    assert v2["exams"][1]["score"] == 86 and v2["certificates"] == [CERTIFICATE]
    found = client.get(S, token=region, params={"snils": s["snils"]}).json()["items"]
    assert [f["exams"][1]["score"] for f in found] == [86]


def xml_view(client, sid, **kw):
    r = client.get(f"{S}/{sid}", headers={"Accept": "application/xml"}, **kw)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    return r


def packet(items):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>TEST-07</SourceSystemID>"
            f"<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>")
    return body.encode()


def post_packet(client, body, cert):
    r = client.post(P, data=body, headers={"Content-Type": "application/xml"}, cert=cert)
    assert r.status_code == 200, r.text[:500]
    root = ET.fromstring(r.content)
    return [i.attrib | {"errors": [(e.get("code"), e.get("path")) for e in i]}
            for i in root.find(f"{{{NS}}}Items")]


def item_of(view):
    """The XML view of a student as a package item (the namespace is the Packet's)."""
    text = view.content.decode()
    return re.sub(r"^<\?xml[^>]*>\s*", "", text).replace(f' xmlns="{NS}"', "")


def test_xml_view_is_valid_and_round_trips_unchanged(client, region, region_cert):
    s = create(client, region, with_records())
    view = xml_view(client, s["id"], token=region)
    xmlschema.XMLSchema10(str(XSD)).validate(view.content)  # not libxml2
    root = ET.fromstring(view.content)
    exam = root.find(f"{{{NS}}}Exams")[1]
    assert exam.get("kind") == "EGE" and exam.findtext(f"{{{NS}}}Score") == "80"
    assert exam.findtext(f"{{{NS}}}Passed") == "true"
    cert = root.find(f"{{{NS}}}Certificates")[0]
    assert cert.get("type") == "ATTESTAT_OOO"
    assert cert.findtext(f"{{{NS}}}WithHonors") == "true"
    gto = root.find(f"{{{NS}}}Achievements")[1]
    assert gto.get("kind") == "GTO" and gto.findtext(f"{{{NS}}}Badge") == "GOLD"
    items = post_packet(client, packet([item_of(view)]), region_cert)
    assert items[0]["result"] == "UNCHANGED" and items[0]["id"] == s["id"], items
    assert client.get(f"{S}/{s['id']}", token=region).json() == s


def test_package_item_export_and_back(client, region, region_cert):
    org = new_org()
    doc = with_records(organization=org)
    sample = (XSD.parent / "samples" / "packet-records.xml").read_text(encoding="utf-8")
    student_xml = sample[sample.index("<Student "):sample.index("</Data>")]
    student_xml = (student_xml.replace("156-742-318 79", doc["snils"])
                   .replace("<Number>345678</Number>", "<Number>" + str(uuid.uuid4().int)[:6]
                            + "</Number>")
                   .replace("<Organization>1021600001235</Organization>\n      <Achievements>",
                            f"<Organization>{org}</Organization>\n      <Achievements>"))
    items = post_packet(client, packet([student_xml]), region_cert)
    assert items[0]["result"] == "CREATED", items
    sid = items[0]["id"]
    as_json = client.get(f"{S}/{sid}", token=region).json()
    assert as_json["organization"] == org
    assert as_json["achievements"][1] == {
        "kind": "GTO", "title": "Золотой знак отличия ГТО, V ступень", "level": "FEDERAL",
        "result": "WINNER", "badge": "GOLD", "date": "2024-05-30",
        "organizer": "Центр тестирования ГТО г. Казани", "document": {"number": "24-16-0012345"}}
    assert as_json["exams"] == [
        {"kind": "OGE", "year": 2024, "subject_code": "1", "subject": "Русский язык",
         "score": 31, "mark": 5, "passed": True},
        {"kind": "EGE", "year": 2026, "subject_code": "2",
         "subject": "Математика (профильный уровень)", "score": 86, "passed": True},
        {"kind": "FINAL_MARK", "year": 2026, "subject": "Физика", "mark": 4},
    ]
    assert as_json["certificates"] == [
        {"type": "ATTESTAT_OOO", "number": "16024000123456", "issued_on": "2024-06-28",
         "with_honors": True, "organization": "1021600001235"}]
    export = client.get("/api/v1/export", cert=region_cert, params={"organization": org})
    assert export.status_code == 200
    xmlschema.XMLSchema10(str(XSD)).validate(export.content)
    again = post_packet(client, export.content, region_cert)
    assert [i["result"] for i in again] == ["UNCHANGED"], again
    assert client.get(f"{S}/{sid}", token=region).json() == as_json
    # kontingentctl export writes the same elements.
    offline = run_ctl("export", "--organization", org).stdout.encode()
    xmlschema.XMLSchema10(str(XSD)).validate(io.BytesIO(offline))
    exams = ET.fromstring(offline).find(f"{{{NS}}}Data")[0].find(f"{{{NS}}}Exams")
    assert [e.findtext(f"{{{NS}}}Score") for e in exams] == ["31", "86", None]


def test_package_item_errors_point_at_elements(client, region_cert):
    doc = with_records()
    view_like = (
        f'<Student localId="r1"><LastName>Петров</LastName><FirstName>Иван</FirstName>'
        f"<Sex>M</Sex><BirthDate>2008-04-11</BirthDate><SNILS>{doc['snils']}</SNILS>"
        '<Citizenship category="RF"/><Documents><Document type="BIRTH_CERT_RF">'
        f"<Series>IV-КБ</Series><Number>{doc['documents'][0]['number']}</Number></Document>"
        '</Documents><Addresses><Address kind="REGISTRATION"><Text>Казань</Text></Address>'
        f"</Addresses><Organization>{doc['organization']}</Organization>"
        '<Achievements><Achievement kind="GTO"><Title>ГТО</Title><Level>FEDERAL</Level>'
        "<Result>PRIZE_WINNER</Result><Date>2024-05-30</Date></Achievement></Achievements>"
        '<Exams><Exam kind="EGE"><Year>2025</Year><Subject>Химия</Subject><Score>70</Score>'
        '<Mark>6</Mark></Exam></Exams><Certificates><Certificate type="ATTESTAT_SOO">'
        "<Number>12345</Number><IssuedOn>2026-06-30</IssuedOn><WithHonors>true</WithHonors>"
        "</Certificate></Certificates></Student>")
    items = post_packet(client, packet([view_like, view_like.replace("<Mark>6</Mark>",
                                                                     "<Mark>x</Mark>")]),
                        region_cert)
    base = "/Packet/Data/Student[1]"
    assert items[0]["result"] == "REJECTED"
    assert set(items[0]["errors"]) == {
        ("ENUM", f"{base}/Achievements/Achievement[1]/Result"),
        ("FORMAT", f"{base}/Exams/Exam[1]/Mark"),
        ("FORMAT", f"{base}/Certificates/Certificate[1]/Number"),
    }
    assert items[1]["result"] == "REJECTED"
    assert items[1]["errors"][0] == ("XSD", "/Packet/Data/Student[2]/Exams/Exam[1]/Mark")
