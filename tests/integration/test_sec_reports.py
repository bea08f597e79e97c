"""Reports: small-cell suppression and deleted students (issue 12, item 14 and the
documented not_enrolled rule).

Each test builds its own small population in new organisations: a count of 1..4 (and any
count whose value the total would give away) is never shown, in any format.
"""

import csv
import io
import pathlib
import urllib.parse
import xml.etree.ElementTree as ET

from conftest import new_org
from kt_data import student

AS_OF = "2026-09-20"
CONTINGENT = "/api/v1/reports/contingent"
MIGRATION = "/api/v1/reports/migration"
XSD = pathlib.Path(__file__).parents[2] / "xsd" / "kontingent-exchange-1.xsd"
SVG = "{http://www.w3.org/2000/svg}"


def event(type_, org, date, grade=3, **more):
    ev = {"type": type_, "date": date, "order": {"number": "1", "date": date}} | more
    if type_ in ("ENROLL", "TRANSFER_IN"):
        ev |= {"organization": org, "level": "NOO" if grade <= 4 else "OOO",
               "program": {"name": "ООП"},
               "form": "FULL_TIME", "grade": grade}
    return ev


def enrolled(client, cert, org, grade=3, token=None, **body):
    """A student of org, enrolled on 2025-09-01 in grade; returns its id."""
    who = {"token": token} if token else {"cert": cert}
    params = {"purpose": "отчёт"} if "health" in body else {}
    r = client.post("/api/v1/students", json=student(org=org) | body, params=params, **who)
    assert r.status_code == 201, r.text[:300]
    sid = r.json()["id"]
    r = client.post(f"/api/v1/students/{sid}/events", cert=cert,
                    json=event("ENROLL", org, "2025-09-01", grade))
    assert r.status_code == 201, r.text[:300]
    return sid


def contingent(client, cert=None, accept=None, token=None, **params):
    headers = {"Accept": accept} if accept else {}
    r = client.get(CONTINGENT, cert=cert, token=token, headers=headers,
                   params={"as_of": AS_OF} | params)
    assert r.status_code == 200, r.text[:300]
    return r


# --- deleted students ----------------------------------------------------------------------


def test_a_deleted_student_is_neither_counted_nor_not_enrolled(client, region_cert):
    org = new_org()
    for _ in range(5):  # region-wide counts of at least 5: shown, whatever else is there
        enrolled(client, region_cert, org)
        assert client.post("/api/v1/students", cert=region_cert,
                           json=student(org=org)).status_code == 201
    before = contingent(client, region_cert, group_by="").json()
    assert before["total"] is not None and before["not_enrolled"] is not None
    sid = enrolled(client, region_cert, org)
    during = contingent(client, region_cert, group_by="").json()
    assert (during["total"], during["not_enrolled"]) == (before["total"] + 1,
                                                         before["not_enrolled"])
    r = client.delete(f"/api/v1/students/{sid}", cert=region_cert,
                      headers={"X-Reason": urllib.parse.quote("ошибочная запись")})
    assert r.status_code == 204, r.text[:300]
    after = contingent(client, region_cert, group_by="").json()
    assert (after["total"], after["not_enrolled"]) == (before["total"], before["not_enrolled"])


# --- contingent: every format ------------------------------------------------------------


def test_small_contingent_cells_are_suppressed_in_every_format(client, region_cert):
    org = new_org()
    for grade, n in ((3, 6), (4, 5), (5, 2)):
        for _ in range(n):
            enrolled(client, region_cert, org, grade)
    params = {"organization": org, "group_by": "grade"}
    # Grade 5 (2) is small; grade 4 (5) is hidden too, or 13 - 6 - 5 would give it away.
    body = contingent(client, region_cert, **params).json()
    assert body["total"] == 13 and body["suppression_threshold"] == 5
    assert body["rows"] == [{"grade": 3, "count": 6},
                            {"grade": 4, "count": None, "suppressed": True},
                            {"grade": 5, "count": None, "suppressed": True}]

    text = contingent(client, region_cert, "text/csv", **params).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert [(r["Класс"], r["Число обучающихся"]) for r in rows] == [("3", "6"), ("4", ""),
                                                                     ("5", "")]

    r = contingent(client, region_cert, "application/xml", **params)
    import xmlschema
    xmlschema.XMLSchema(str(XSD)).validate(r.content)
    root = ET.fromstring(r.content)
    assert root.get("total") == "13"
    assert [(e.get("grade"), e.get("count"), e.get("suppressed")) for e in root] == [
        ("3", "6", None), ("4", None, "true"), ("5", None, "true")]

    svg = ET.fromstring(contingent(client, region_cert, "image/svg+xml", **params).content)
    numbers = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "n"]
    assert numbers == ["6", "скрыто", "скрыто"]
    titles = " ".join(t.text for t in svg.iter(f"{SVG}title"))
    assert ": 5" not in titles and ": 2" not in titles


def test_a_health_cell_of_one_child_is_not_shown(client, region_cert, token):
    org = new_org()
    admin = token("admin", scope="health")
    for _ in range(6):
        enrolled(client, region_cert, org)
    enrolled(client, region_cert, org, token=admin,
             health={"health_group": "II", "legal_basis": {"kind": "LAW",
                                                           "law_ref": "273-ФЗ ст. 41"}})
    ministry = token("ministry", scope="health")
    body = contingent(client, token=ministry, organization=org, group_by="health_group").json()
    # II: 1 child; the unknown group (6) goes too, or 7 - 6 would tell the 1.
    assert body["total"] == 7
    assert body["rows"] == [{"health_group": "II", "count": None, "suppressed": True},
                            {"health_group": None, "count": None, "suppressed": True}]
    # A small total is hidden as well.
    school = new_org()
    for _ in range(3):
        enrolled(client, region_cert, school)
    small = contingent(client, region_cert, organization=school, group_by="grade").json()
    assert small["total"] is None
    assert small["rows"] == [{"grade": 3, "count": None, "suppressed": True}]
    root = ET.fromstring(contingent(client, region_cert, "application/xml",
                                    organization=school, group_by="grade").content)
    assert root.get("total") is None and root.get("totalSuppressed") == "true"


# --- migration ---------------------------------------------------------------------------


def move(client, cert, a, b, date):
    sid = enrolled(client, cert, a)
    arrival = date[:-2] + f"{int(date[-2:]) + 1:02d}"
    for ev in (event("TRANSFER_OUT", a, date, to_organization=b),
               event("TRANSFER_IN", b, arrival)):
        r = client.post(f"/api/v1/students/{sid}/events", cert=cert, json=ev)
        assert r.status_code == 201, r.text[:300]


def migration(client, cert, date):
    r = client.get(MIGRATION, cert=cert, params={"from": date, "to": date})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def test_small_migration_flows_are_suppressed(client, region_cert):
    # A day no other test moves anyone on: the answer is this test's alone.
    date = "2026-02-17"
    a, b = new_org(oktmo="92701000"), new_org(oktmo="92630000")
    move(client, region_cert, a, b, date)
    body = migration(client, region_cert, date)
    assert body["total_moves"] is None and body["suppression_threshold"] == 5
    assert body["flows"] == [{"from": a, "to": b, "count": None, "suppressed": True}]
    assert body["municipalities"] == [{"from": "92701000", "to": "92630000", "count": None,
                                       "suppressed": True}]
    per_org = {o["organization"]: o for o in body["organizations"]}
    assert (per_org[a]["out"], per_org[a]["net"]) == (None, None)
    assert (per_org[b]["in"], per_org[b]["net"]) == (None, None)

    for _ in range(5):
        move(client, region_cert, a, b, date)
    move(client, region_cert, b, a, date)
    body = migration(client, region_cert, date)
    # 6 a→b and 1 b→a: the 1 is small, the 6 goes too, or 7 - 6 would tell it.
    assert body["total_moves"] == 7
    flows = {(f["from"], f["to"]): f for f in body["flows"]}
    assert flows[(a, b)]["count"] is None and flows[(b, a)]["count"] is None
    # Neither the organisations' margins nor the municipalities give them back.
    per_org = {o["organization"]: o for o in body["organizations"]}
    for org in (a, b):
        assert per_org[org]["in"] is None and per_org[org]["out"] is None
        assert per_org[org]["net"] is None
    assert all(m["count"] is None for m in body["municipalities"])
