"""Current progress through nginx (docs/progress.md): the JSON API (PUT, PATCH by key, GET,
as_of, history, If-Match), validation codes, who may read and write whose progress, the
access log naming the student, <Progress> package items with a receipt per item, the export's
round trip, verify, and the progress report against counts computed here."""

import re
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import Client, assert_problem, ensure_org
from kt_data import SCHOOL_A, SCHOOL_B, ogrn, student

S = "/api/v1/students"
YEAR = "2026-2027"
NS = "urn:kontingent:exchange:1"
XML = {"Content-Type": "application/xml"}


def q(tag):
    return f"{{{NS}}}{tag}"


@pytest.fixture
def region(client, token):
    return client.with_token(token("region"))


def new_student(api, org=SCHOOL_A):
    r = api.post(S, json=student(org=org))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def record(marks=None, absences=None, grade=5, scheme="QUARTERS"):
    body = {"grade": grade, "scheme": scheme}
    if marks is not None:
        body["marks"] = [dict(zip(("subject", "period", "mark"), m[:3]),
                              **({"reason": m[3]} if len(m) > 3 else {})) for m in marks]
    if absences is not None:
        body["absences"] = absences
    return body


def url(sid, year=YEAR):
    return f"{S}/{sid}/progress/{year}"


def marks_of(doc):
    return {(m["subject"], m["period"]): m["mark"] for m in doc.get("marks", [])}


def errors(resp):
    body = assert_problem(resp, 422, "VALIDATION")
    return {(e["pointer"], e["code"]) for e in body["errors"]}


# --- the JSON API -------------------------------------------------------------------------------


def test_put_patch_get_history_and_as_of(region):
    sid = new_student(region)
    assert_problem(region.get(url(sid)), 404, "NOT_FOUND")
    r = region.put(url(sid), json=record([("RUS", "Q1", "5"), ("MATH", "Q1", "4")],
                                         [{"period": "Q1", "days": 3, "lessons": 15,
                                           "days_illness": 2}]))
    assert r.status_code == 201, r.text
    first = r.json()
    assert r.headers["ETag"] == '"1"' and first["version"] == 1
    assert first["student_id"] == sid and first["year"] == YEAR
    assert first["organization"] == SCHOOL_A and first["id"] != sid
    r = region.patch(url(sid), json=record([("RUS", "Q1", "4"), ("RUS", "Q2", "5")]))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    got = region.get(url(sid)).json()
    assert marks_of(got) == {("RUS", "Q1"): "4", ("MATH", "Q1"): "4", ("RUS", "Q2"): "5"}
    assert got["absences"] == [{"period": "Q1", "days": 3, "lessons": 15, "days_illness": 2}]
    # The same PATCH again writes nothing; a PUT replaces the whole record.
    assert region.patch(url(sid), json=record([("RUS", "Q2", "5")])).json()["version"] == 2
    r = region.put(url(sid), json=record([("PE", "Y", "PASS")]), headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3
    assert marks_of(r.json()) == {("PE", "Y"): "PASS"}
    assert_problem(region.put(url(sid), json=record(), headers={"If-Match": '"2"'}), 412,
                   "VERSION_CONFLICT")
    hist = region.get(url(sid) + "/history").json()
    assert [h["version"] for h in hist["items"]] == [3, 2, 1]
    assert hist["next_cursor"] is None
    assert any(c["pointer"].startswith("/marks") for c in hist["items"][1]["changes"])
    # as_of: the record as it was between the first and the second version.
    t = region.get(url(sid) + "/history").json()["items"][2]["time"]
    old = region.get(url(sid), params={"as_of": t}).json()
    assert old["version"] == 1 and marks_of(old)[("RUS", "Q1")] == "5"
    assert_problem(region.get(url(sid), params={"as_of": "2000-01-01T00:00:00Z"}), 404,
                   "NOT_FOUND")
    # Another year is another record; a year that is not one is 404.
    assert_problem(region.get(url(sid, "2025-2026")), 404, "NOT_FOUND")
    assert_problem(region.get(url(sid, "2026-2028")), 404, "NOT_FOUND")
    assert_problem(region.get(url(str(uuid.uuid4()))), 404, "NOT_FOUND")


def test_validation_codes(region):
    sid = new_student(region)
    got = errors(region.put(url(sid), json=record([
        ("ASTRO", "Q1", "5"), ("MATH", "Q1", "NA"), ("HIST", "Q1", "7"),
        ("BIO", "Q2", "4", "ILLNESS")],
        [{"period": "Q1", "days": 2, "lessons": 300, "lessons_illness": 301}])))
    assert got == {("/marks/0/subject", "ENUM"), ("/marks/1/reason", "REQUIRED"),
                   ("/marks/2/mark", "ENUM"), ("/marks/3/reason", "FORMAT"),
                   ("/absences/0/lessons_illness", "FORMAT")}
    # The rules across entries, once every entry is valid by itself.
    got = errors(region.put(url(sid), json=record(
        [("RUS", "T1", "5"), ("MATH", "Q1", "3"), ("MATH", "Q1", "4")],
        [{"period": "Q1", "days": 1, "lessons": 2}, {"period": "Q1", "days": 1, "lessons": 2}])))
    assert got == {("/marks/0/period", "ENUM"), ("/marks/2", "FORMAT"), ("/absences/1", "FORMAT")}
    assert ("/year", "FORMAT") in errors(region.put(url(sid), json={**record(),
                                                                    "year": "2025-2026"}))
    assert ("/grade", "REQUIRED") in errors(region.put(url(sid), json={"scheme": "QUARTERS"}))
    assert ("/colour", "UNKNOWN_FIELD") in errors(region.put(url(sid),
                                                             json={**record(), "colour": 1}))
    assert_problem(region.get(url(sid)), 404, "NOT_FOUND")  # nothing was written


def test_roles_and_access_log(client, token, region):
    sid = new_student(region, SCHOOL_A)
    school_a = client.with_token(token("school", org=SCHOOL_A))
    school_b = client.with_token(token("school", org=SCHOOL_B))
    ministry = client.with_token(token("ministry"))
    auditor_t = token("auditor")
    auditor = client.with_token(auditor_t)
    assert school_a.put(url(sid), json=record([("RUS", "Q1", "5")])).status_code == 201
    # Another school: the student is not there at all, for reads and writes alike.
    assert_problem(school_b.get(url(sid)), 404, "NOT_FOUND")
    assert_problem(school_b.patch(url(sid), json=record([("RUS", "Q1", "2")])), 404,
                   "NOT_FOUND")
    # The ministry and auditors read; they do not write.
    assert ministry.get(url(sid)).status_code == 200
    assert auditor.get(url(sid)).status_code == 200
    assert_problem(ministry.put(url(sid), json=record()), 403, "FORBIDDEN")
    assert_problem(auditor.patch(url(sid), json=record()), 403, "FORBIDDEN")
    assert marks_of(region.get(url(sid)).json()) == {("RUS", "Q1"): "5"}
    # Every read names the student in the access log.
    items = client.get("/api/v1/audit/access", token=auditor_t,
                       params={"student": sid}).json()["items"]
    whats = [e["what"] for e in items]
    assert "progress" in whats and "write" in whats


# --- packages and export ---------------------------------------------------------------------


def packet(items):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>JOURNAL-1</SourceSystemID>"
            f"<Timestamp>2026-11-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>").encode()


def progress_xml(sid, marks, year=YEAR, local_id=None, grade=5, absences=""):
    lid = f' localId="{local_id}"' if local_id else ""
    ms = "".join(f'<Mark subject="{s}" period="{p}" mark="{m}"/>' for s, p, m in marks)
    return (f'<Progress student="{sid}" year="{year}"{lid}><Grade>{grade}</Grade>'
            f"<Scheme>QUARTERS</Scheme><Marks>{ms}</Marks>{absences}</Progress>")


def receipt(resp):
    assert resp.status_code == 200, resp.text[:500]
    root = ET.fromstring(resp.content)
    items = [i.attrib | {"errors": [(e.get("code"), e.get("path")) for e in i]}
             for i in root.find(q("Items"))]
    return root.findtext(q("Status")), items


def test_package_items_with_receipts(client, region_cert, region):
    sids = [new_student(region) for _ in range(3)]
    items = [
        progress_xml(sids[0], [("RUS", "Q1", "5"), ("MATH", "Q1", "3")], local_id="p1",
                     absences='<Absences><Absence period="Q1" days="2" lessons="10"/></Absences>'),
        progress_xml(sids[1], [("RUS", "Q1", "4")], local_id="p2"),
        progress_xml(sids[0], [("RUS", "Q2", "4")], local_id="p3"),  # merged into p1's
        progress_xml(sids[2], [("ASTRO", "Q1", "5")], local_id="p4"),  # the model refuses
        progress_xml(sids[2], [("RUS", "Q1", "5")], year="2026-2030", local_id="p5"),
        progress_xml(str(uuid.uuid4()), [("RUS", "Q1", "5")], local_id="p6"),
        progress_xml(sids[2], [("RUS", "Q1", "5")], grade=13, local_id="p7"),  # the XSD
    ]
    status, got = receipt(client.post("/api/v1/packages", data=packet(items), headers=XML,
                                      cert=region_cert))
    assert status == "PARTIAL"
    assert [(i["localId"], i["result"]) for i in got] == [
        ("p1", "CREATED"), ("p2", "CREATED"), ("p3", "UPDATED"), ("p4", "REJECTED"),
        ("p5", "REJECTED"), ("p6", "REJECTED"), ("p7", "REJECTED")]
    assert got[0]["id"] == got[2]["id"] and got[2]["version"] == "2"
    assert got[3]["errors"] == [("ENUM", "/Packet/Data/Progress[4]/Marks/Mark[1]/@subject")]
    assert got[4]["errors"][0][0] == "NOT_FOUND"
    assert got[5]["errors"][0][0] == "NOT_FOUND"
    assert got[6]["errors"][0][0] == "XSD"
    doc = region.get(url(sids[0])).json()
    assert marks_of(doc) == {("RUS", "Q1"): "5", ("MATH", "Q1"): "3", ("RUS", "Q2"): "4"}
    assert doc["absences"] == [{"period": "Q1", "days": 2, "lessons": 10}]
    hist = region.get(url(sids[0]) + "/history").json()["items"]
    assert hist[0]["source"]["item"] == 3 and hist[1]["source"]["item"] == 1


def region_marks(client, token, sid):
    r = client.get(url(sid), token=token("region"))
    return marks_of(r.json()) if r.status_code == 200 else None


def test_school_package_only_its_own_students(client, token, region):
    mine, other = new_student(region, SCHOOL_A), new_student(region, SCHOOL_B)
    school_a = token("school", org=SCHOOL_A)
    r = client.post("/api/v1/packages", headers={**XML, "Authorization": f"Bearer {school_a}"},
                    data=packet([progress_xml(mine, [("RUS", "Q1", "5")]),
                                 progress_xml(other, [("RUS", "Q1", "5")])]))
    status, got = receipt(r)
    assert [i["result"] for i in got] == ["CREATED", "REJECTED"]
    assert got[1]["errors"][0][0] == "NOT_FOUND"
    # The ministry posts packages, but not progress: as in the API, 403 per item.
    ministry = token("ministry")
    r = client.post("/api/v1/packages", headers={**XML, "Authorization": f"Bearer {ministry}"},
                    data=packet([progress_xml(other, [("RUS", "Q1", "2")])]))
    status, got = receipt(r)
    assert status == "REJECTED" and got[0]["errors"][0][0] == "FORBIDDEN"
    assert region_marks(client, token, other) is None


def test_export_carries_progress_and_round_trips(client, region_cert, region, ctl):
    import pathlib
    import xmlschema

    org = ensure_org(ogrn("106770000000"))  # an organisation of this test alone
    sids = [new_student(region, org) for _ in range(2)]
    region.put(url(sids[0]), json=record([("RUS", "Q1", "5"), ("PE", "Q1", "PASS"),
                                          ("HIST", "Q1", "NA", "ILLNESS")],
                                         [{"period": "Q1", "days": 1, "lessons": 6,
                                           "days_illness": 1, "lessons_illness": 6}]))
    region.put(url(sids[0], "2025-2026"), json=record([("MATH", "Y", "4")], grade=4))
    region.put(url(sids[1]), json=record([("MATH", "Q1", "2")]))
    r = client.get("/api/v1/export", cert=region_cert, params={"organization": org})
    assert r.status_code == 200
    xsd = xmlschema.XMLSchema(str(pathlib.Path(__file__).parents[2] / "xsd" /
                                  "kontingent-exchange-1.xsd"))
    xsd.validate(r.content)
    root = ET.fromstring(r.content)
    progress = root.findall(f".//{q('Progress')}")
    assert sorted((p.get("student"), p.get("year")) for p in progress) == sorted(
        [(sids[0], YEAR), (sids[0], "2025-2026"), (sids[1], YEAR)])
    assert all(p.get("organization") == org for p in progress)
    status, again = receipt(client.post("/api/v1/packages", data=r.content, headers=XML,
                                        cert=region_cert))
    assert status == "PROCESSED" and {i["result"] for i in again} == {"UNCHANGED"}, again
    # One record as XML: valid alone, and sent back unchanged.
    x = client.get(url(sids[0]), cert=region_cert, headers={"Accept": "application/xml"})
    assert x.status_code == 200
    xsd.validate(x.content)
    inner = re.sub(r"^<\?xml[^>]*>\s*", "", x.content.decode()).replace(f' xmlns="{NS}"', "")
    status, got = receipt(client.post("/api/v1/packages", data=packet([inner]), headers=XML,
                                      cert=region_cert))
    assert got[0]["result"] == "UNCHANGED", got
    # verify walks the progress records' chains too.
    out = ctl("verify")
    m = re.search(r"; (\d+) progress records, (\d+) versions", out)
    assert "OK:" in out and m and int(m.group(1)) >= 2, out


# --- the report ----------------------------------------------------------------------------------

SUBJECTS = ("RUS", "MATH", "HIST", "PE", "INF")
MARKS = ("5", "5", "4", "4", "4", "3", "3", "2", "PASS", "FAIL", "NA")
K = 5


def small(n):
    return 0 < n < K


def suppress(counts, total):
    """model/report.c's report_suppress, as the docs state it."""
    hidden = [small(c) for c in counts]
    while True:
        cells = [c for c, h in zip(counts, hidden) if h]
        if not cells or not (len(cells) == 1 or sum(cells) == len(cells)
                             or sum(cells) == len(cells) * (K - 1)):
            return hidden, small(total)
        shown = [i for i, (c, h) in enumerate(zip(counts, hidden)) if not h and c > 0]
        if not shown:
            return hidden, True
        hidden[min(shown, key=lambda i: (counts[i], i))] = True


def cell(scopes):
    """The figures of a group from each student's marks in scope."""
    c = {"students": 0, "passing": 0, "quality": 0, "marks": 0, "sum": 0}
    for marks in scopes:
        if not marks:
            continue
        c["students"] += 1
        c["passing"] += all(m not in ("1", "2", "FAIL", "NA") for m in marks)
        c["quality"] += all(m in ("4", "5", "PASS") for m in marks)
        nums = [int(m) for m in marks if m.isdigit()]
        c["marks"] += len(nums)
        c["sum"] += sum(nums)
    return c


def shown(c, hidden):
    """The JSON the report gives for a cell."""
    def part(n):
        return hidden or small(n) or small(c["students"] - n)

    def rate(n):
        return None if part(n) else (n * 1000 + c["students"] // 2) // c["students"] / 10

    avg = None if hidden or not c["marks"] else \
        (c["sum"] * 100 + c["marks"] // 2) // c["marks"] / 100
    return {"students": None if hidden else c["students"],
            "passing": None if part(c["passing"]) else c["passing"],
            "quality": None if part(c["quality"]) else c["quality"],
            "success_rate": rate(c["passing"]), "quality_rate": rate(c["quality"]),
            "average_mark": avg, "suppressed": hidden}


def expected(population, group, period):
    """{key: shown cell} and the total, as the report must give them."""
    groups = {}
    for p in population:
        marks = {s: m for (s, per), m in p["marks"].items() if per == period}
        if group == "subject":
            for s, m in marks.items():
                groups.setdefault(s, []).append([m])
        else:
            key = {"grade": p["grade"], "school": p["org"], "municipality": p["muni"]}[group]
            groups.setdefault(key, []).append(list(marks.values()))
    total = cell([[m for (s, per), m in p["marks"].items() if per == period]
                  for p in population])
    keys = sorted(groups)
    cells = [cell(groups[k]) for k in keys]
    if group == "subject":
        hidden, total_hidden = [small(c["students"]) for c in cells], small(total["students"])
    else:
        hidden, total_hidden = suppress([c["students"] for c in cells], total["students"])
    rows = {k: shown(c, h) for k, c, h in zip(keys, cells, hidden) if c["students"]}
    return rows, shown(total, total_hidden)


def report(client, tok, **params):
    r = client.get("/api/v1/reports/progress", token=tok, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def rows_of(body, group):
    return {row[group]: {k: row[k] for k in ("students", "passing", "quality", "success_rate",
                                              "quality_rate", "average_mark", "suppressed")}
            for row in body["rows"]}


@pytest.fixture(scope="module")
def population(region_cert, token):
    """Students of three new schools in two new municipalities, their Q1 marks sent by
    package for a year no other test writes; then some changed by a second package."""
    import random

    rng = random.Random(15)
    client = Client()
    api = client.with_token(token("region"))
    year = f"{rng.randint(2040, 2090)}-"
    year += str(int(year[:4]) + 1)
    munis = [f"{rng.randint(10, 99)}{rng.randint(100, 999)}" for _ in range(2)]
    schools = [(ensure_org(ogrn(f"1{rng.randint(10**10, 10**11 - 1)}"),
                           oktmo=munis[i % 2] + "000"), munis[i % 2]) for i in range(3)]
    people, items = [], []
    for i in range(40):
        org, muni = schools[i % 3] if i < 36 else schools[0]  # a big first school
        sid = new_student(api, org)
        marks = {(s, "Q1"): rng.choice(MARKS) for s in SUBJECTS if rng.random() < 0.85}
        marks[("RUS", "Q2")] = "5"  # another period: never counted for Q1
        grade = 5 + i % 3 if i != 39 else 11  # grade 11 has one student: suppressed
        people.append({"sid": sid, "org": org, "muni": muni + "000", "grade": grade,
                       "marks": marks})
        ms = "".join(f'<Mark subject="{s}" period="{p}" mark="{m}"'
                     + (' reason="ILLNESS"' if m == "NA" else "") + "/>"
                     for (s, p), m in marks.items())
        items.append(f'<Progress student="{sid}" year="{year}"><Grade>{grade}</Grade>'
                     f"<Scheme>QUARTERS</Scheme><Marks>{ms}</Marks></Progress>")
    status, got = receipt(client.post("/api/v1/packages", data=packet(items), headers=XML,
                                      cert=region_cert))
    assert status == "PROCESSED" and {i["result"] for i in got} == {"CREATED"}
    before = [dict(p, marks=dict(p["marks"])) for p in people]
    t = api.get(url(people[-1]["sid"], year) + "/history").json()["items"][0]["time"]
    # Later: five students get a 2 in mathematics.
    items = []
    for p in people[:5]:
        p["marks"][("MATH", "Q1")] = "2"
        items.append(f'<Progress student="{p["sid"]}" year="{year}"><Grade>{p["grade"]}</Grade>'
                     '<Scheme>QUARTERS</Scheme><Marks><Mark subject="MATH" period="Q1" mark="2"/>'
                     "</Marks></Progress>")
    status, got = receipt(client.post("/api/v1/packages", data=packet(items), headers=XML,
                                      cert=region_cert))
    assert status == "PROCESSED"
    return {"year": year, "people": people, "before": before, "t": t, "schools": schools}


@pytest.mark.parametrize("group", ["school", "grade", "subject", "municipality"])
def test_report_agrees_with_counts(client, token, population, group):
    tok = token("ministry")
    body = report(client, tok, year=population["year"], period="Q1", group_by=group)
    rows, total = expected(population["people"], group, "Q1")
    assert body["group_by"] == group and body["suppression_threshold"] == K
    assert rows_of(body, group) == rows
    assert {k: body["total"][k] for k in total} == total
    if group == "grade":
        assert rows[11]["suppressed"] is True  # one student
    if group == "subject":
        assert {r["subject"]: r["name"] for r in body["rows"]}["RUS"] == "Русский язык"
    # As of a time before the second package: the first marks.
    old = report(client, tok, year=population["year"], period="Q1", group_by=group,
                 as_of=population["t"])
    assert rows_of(old, group) == expected(population["before"], group, "Q1")[0]
    # Another period counts only its own marks.
    q2 = report(client, tok, year=population["year"], period="Q2", group_by=group)
    assert rows_of(q2, group) == expected(population["people"], group, "Q2")[0]


def test_report_scope_formats_and_params(client, token, population):
    import pathlib
    import xmlschema

    year = population["year"]
    org = population["schools"][0][0]
    mine = [p for p in population["people"] if p["org"] == org]
    school = token("school", org=org)
    body = report(client, school, year=year, period="Q1", group_by="subject")
    assert body["organization"] == org
    assert rows_of(body, "subject") == expected(mine, "subject", "Q1")[0]
    assert_problem(client.get("/api/v1/reports/progress", token=school,
                              params={"year": year, "organization": population["schools"][1][0]}),
                   403, "FORBIDDEN")
    assert_problem(client.get("/api/v1/reports/progress", token=token("auditor"),
                              params={"year": year}), 403, "FORBIDDEN")
    region = token("region")
    for params in ({"year": "2026"}, {"year": year, "period": "Q7"},
                   {"year": year, "group_by": "sex"}, {"year": year, "as_of": "yesterday"},
                   {"year": year, "organization": "123"}):
        assert_problem(client.get("/api/v1/reports/progress", token=region, params=params), 400,
                       "FORMAT")
    base = {"year": year, "period": "Q1", "group_by": "school"}
    csv = client.get("/api/v1/reports/progress", token=region, params=base,
                     headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().split("\r\n")
    assert lines[0] == "school,students,passing,quality,success_rate,quality_rate,average_mark"
    assert len(lines) == 2 + len(expected(population["people"], "school", "Q1")[0])
    xml = client.get("/api/v1/reports/progress", token=region, params=base,
                     headers={"Accept": "application/xml"})
    assert xml.status_code == 200
    xmlschema.XMLSchema(str(pathlib.Path(__file__).parents[2] / "xsd" /
                            "kontingent-exchange-1.xsd")).validate(xml.content)
    rows = ET.fromstring(xml.content).findall(q("Row"))
    want = expected(population["people"], "school", "Q1")[0]
    assert {r.get("key"): r.get("students") for r in rows} == {
        k: None if v["suppressed"] else str(v["students"]) for k, v in want.items()}
    svg = client.get("/api/v1/reports/progress", token=region, params=base,
                     headers={"Accept": "image/svg+xml"})
    assert svg.status_code == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    ET.fromstring(svg.content)
    assert "Успеваемость" in svg.text
