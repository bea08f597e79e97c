"""Reports and the as_of export: what the versions said was true at a time."""

import concurrent.futures
import csv
import io
import pathlib
import random
import time
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

import threading

from conftest import (BASE_URL, TIMEZONE, Client, assert_problem, new_org, region_day_end,
                      region_today)
from kt_data import new_ogrn, size, student

NS = "urn:kontingent:exchange:1"


def exported_ids(client, cert, org, as_of=None):
    params = {"organization": org} | ({"as_of": as_of} if as_of else {})
    r = client.get("/api/v1/export", cert=cert, params=params)
    assert r.status_code == 200, r.text[:300]
    return {s.get("id") for s in ET.fromstring(r.content).find(f"{{{NS}}}Data")}


def test_export_as_of_finds_students_who_left_since(client, region_cert):
    org, other = new_org(), new_org()
    ids = []
    for _ in range(3):
        r = client.post("/api/v1/students", cert=region_cert, json=student(org=org))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    hist = client.get(f"/api/v1/students/{ids[-1]}/history", cert=region_cert).json()
    as_of = hist["items"][0]["time"]
    time.sleep(0.01)
    moved = client.get(f"/api/v1/students/{ids[0]}", cert=region_cert)
    body = moved.json() | {"organization": other}
    r = client.put(f"/api/v1/students/{ids[0]}", cert=region_cert, json=body,
                   headers={"If-Match": moved.headers["ETag"]})
    assert r.status_code == 200, r.text
    late = client.post("/api/v1/students", cert=region_cert, json=student(org=org)).json()["id"]

    assert exported_ids(client, region_cert, org, as_of) == set(ids)
    assert exported_ids(client, region_cert, org) == set(ids[1:]) | {late}
    assert exported_ids(client, region_cert, other, as_of) == set()
    assert exported_ids(client, region_cert, other) == {ids[0]}


def test_report_parameters_are_checked(client, region_cert, token):
    url = "/api/v1/reports/contingent"
    assert_problem(client.get(url, cert=region_cert, params={"group_by": "height"}), 400, "FORMAT")
    assert_problem(client.get(url, cert=region_cert, params={"group_by": "sex,sex"}), 400,
                   "FORMAT")
    assert_problem(client.get(url, cert=region_cert, params={"as_of": "2026-02-30"}), 400,
                   "FORMAT")
    assert_problem(client.get(url, cert=region_cert, params={"age_on": "yesterday"}), 400,
                   "FORMAT")
    mig = "/api/v1/reports/migration"
    assert_problem(client.get(mig, cert=region_cert,
                              params={"from": "2026-10-01", "to": "2026-09-01"}), 400,
                   "FORMAT")
    assert_problem(client.get(url, token=token("auditor")), 403, "FORBIDDEN")
    school = token("school", org="1027700132195")
    assert_problem(client.get(url, token=school, params={"organization": new_ogrn()}), 403,
                   "FORBIDDEN")
    assert_problem(client.get(mig, token=school), 403, "FORBIDDEN")
    r = client.get(url, token=school)
    assert r.status_code == 200 and r.json()["as_of"].endswith("-09-20")


def test_default_report_dates_follow_the_regions_day(client, region_cert):
    """Without dates the reports count to the region's today (KT_TIMEZONE), not UTC's."""
    for _ in range(3):  # asked again only if the region's day turned over meanwhile
        today = region_today()
        mig = client.get("/api/v1/reports/migration", cert=region_cert)
        cont = client.get("/api/v1/reports/contingent", cert=region_cert, params={"group_by": ""})
        if region_today() == today:
            break
    else:
        pytest.fail("the region's day turned over three times")
    assert mig.status_code == 200 and cont.status_code == 200, (mig.text[:300], cont.text[:300])
    ref = today.replace(month=9, day=20)
    ref = ref if ref <= today else ref.replace(year=today.year - 1)
    assert cont.json()["as_of"] == ref.isoformat()
    assert mig.json()["to"] == today.isoformat()
    assert mig.json()["from"] == ref.replace(day=1).isoformat()


# --- the contingent and migration reports over a generated population ---------------------
#
# Hundreds of students (KT_TEST_POPULATION: 400; 2 000 with KT_TEST_FULL=1) in four schools
# of two municipalities, each with a random path of events around the report date
# 2026-09-20; the test computes the expected counts itself from what it generated (not from
# the service) and compares.

AS_OF = "2026-09-20"
AGE_ON = "2027-01-01"
ORDER = {"number": "1", "date": "2025-08-25"}


def level_of(grade):
    return "NOO" if grade <= 4 else "OOO" if grade <= 9 else "SOO"


def enroll(org, date, grade, form, type_="ENROLL"):
    return {"type": type_, "date": date, "order": {"number": "1", "date": date},
            "organization": org, "level": level_of(grade), "program": {"name": "ООП"},
            "form": form, "grade": grade}


def plan(rng, orgs):
    """One student: (body, events, facts on AS_OF or None, moves [(from, to, date)])."""
    org = rng.choice(orgs)
    grade = rng.randint(1, 10)
    sex = rng.choice("MF")
    year = 2026 - 6 - grade
    birth = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    foreign = rng.random() < 0.1
    body = student(org=org) | {"sex": sex, "birth_date": birth}
    body["documents"][0]["issued_on"] = birth
    if foreign:
        body["citizenship"] = {"category": "FOREIGN", "countries": ["804"]}
    form = "FAMILY" if rng.random() < 0.1 else "FULL_TIME"
    start = rng.choice(["2025-09-01", "2025-09-01", "2025-09-01", "2026-09-10", "2026-10-01"])
    events = [enroll(org, start, grade, form)]
    at, g, moves = org, grade, []
    fate = rng.random()
    if start == "2025-09-01" and fate < 0.15:  # moved school in spring: counted at the new one
        dest = rng.choice([o for o in orgs if o != org])
        events += [{"type": "TRANSFER_OUT", "date": "2026-03-02", "order": ORDER | {"date": "2026-03-02"},
                    "to_organization": dest},
                   enroll(dest, "2026-03-04", grade, form, "TRANSFER_IN")]
        moves.append((org, dest, "2026-03-02"))
        at = dest
    elif start == "2025-09-01" and fate < 0.25:  # moved after AS_OF: counted at the old one
        dest = rng.choice([o for o in orgs if o != org])
        events += [{"type": "TRANSFER_OUT", "date": "2026-10-05", "order": ORDER | {"date": "2026-10-05"},
                    "to_organization": dest},
                   enroll(dest, "2026-10-06", grade, form, "TRANSFER_IN")]
        moves.append((org, dest, "2026-10-05"))
    elif start == "2025-09-01" and fate < 0.30:  # expelled before AS_OF: not counted
        events.append({"type": "EXPEL", "date": "2026-06-01", "order": ORDER | {"date": "2026-06-01"}})
        at = None
    if at is not None and start == "2025-09-01" and grade < 11 and rng.random() < 0.5:
        events.append({"type": "TRANSFER_CLASS", "date": "2026-09-01",
                       "order": ORDER | {"date": "2026-09-01"}, "grade": grade + 1})
        g = grade + 1
    events.sort(key=lambda e: e["date"])  # a class transfer may come before a late move
    if at is None or start > AS_OF:
        facts = None
    else:
        by, bm, bd = map(int, birth.split("-"))
        facts = {"organization": at, "grade": g, "sex": sex, "age": 2027 - by - ((1, 1) < (bm, bd)),
                 "citizenship": "FOREIGN" if foreign else "RF", "form": form}
    return body, events, facts, moves


_local = threading.local()


def create(cert, item):
    """Creates the student and posts its events, on this thread's own connection."""
    if not hasattr(_local, "client"):
        _local.client = Client(BASE_URL)
    client = _local.client
    body, events, _, _ = item
    r = client.post("/api/v1/students", cert=cert, json=body, timeout=300)
    assert r.status_code == 201, r.text[:300]
    sid = r.json()["id"]
    for ev in events:
        r = client.post(f"/api/v1/students/{sid}/events", cert=cert, json=ev, timeout=300)
        assert r.status_code == 201, (ev, r.text[:300])
    return sid


@pytest.fixture(scope="module")
def population(region_cert):
    rng = random.Random(20260920)
    orgs = [new_org(oktmo="92701000"), new_org(oktmo="92701000"),
            new_org(oktmo="92630000"), new_org(oktmo="92630000")]
    items = [plan(rng, orgs) for _ in range(size("KT_TEST_POPULATION", 400, 2000))]
    # Writes serialise on the store (one SQLite writer, the gapless feed): more threads
    # only lengthen the queue.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(lambda it: create(region_cert, it), items))
    return orgs, items, ids


DIMS = ["organization", "grade", "sex", "age", "citizenship", "form"]


def expected_rows(items, orgs, dims):
    c = Counter(tuple(f[d] for d in dims) for _, _, f, _ in items if f and f["organization"] in orgs)
    return {k: n for k, n in c.items()}


def matches_suppressed(got, want):
    """Whether the report's cells (None: suppressed) agree with the independent count under
    small-cell suppression (docs/reports.md): every count of 1..4 is hidden, a shown count is
    exact, and a larger one may be hidden only to protect a small one."""
    return set(got) == set(want) and all(count_ok(got[k], n) for k, n in want.items())


def count_ok(got, n):
    """One cell: a count of 1..4 is hidden (None); any other is exact or hidden."""
    if 0 < n < 5:
        return got is None
    return got == n or (got is None and n > 0)


def report(client, cert, dims, accept=None, **params):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/api/v1/reports/contingent", cert=cert, headers=headers,
                   params={"as_of": AS_OF, "group_by": ",".join(dims)} | params)
    assert r.status_code == 200, r.text[:300]
    return r


def test_contingent_matches_an_independent_count(client, region_cert, population):
    orgs, items, _ = population
    body = report(client, region_cert, DIMS).json()
    assert body["as_of"] == AS_OF and body["age_on"] == AGE_ON and body["group_by"] == DIMS
    got = {tuple(r[d] for d in DIMS): r["count"] for r in body["rows"] if r["organization"] in orgs}
    assert matches_suppressed(got, expected_rows(items, orgs, DIMS))
    # One school at a time, by sex only.
    for org in orgs:
        one = report(client, region_cert, ["sex"], organization=org).json()
        want = Counter(f["sex"] for _, _, f, _ in items if f and f["organization"] == org)
        assert matches_suppressed({r["sex"]: r["count"] for r in one["rows"]}, want)
        assert one["total"] == sum(want.values())


def test_contingent_as_csv_xml_and_svg(client, region_cert, population):
    orgs, items, _ = population
    dims = ["organization", "grade"]
    want = expected_rows(items, orgs, dims)
    rows = read_csv(report(client, region_cert, dims, "text/csv"))
    got = {(r["ОГРН"], int(r["Класс"])): int(r["Число обучающихся"]) if r["Число обучающихся"]
           else None for r in rows if r["ОГРН"] in orgs}
    assert matches_suppressed(got, want)
    assert {r["Организация"] for r in rows if r["ОГРН"] in orgs} == {"МБОУ «Школа № 1»"}
    r = report(client, region_cert, dims, "application/xml")
    import xmlschema
    xsd = xmlschema.XMLSchema(str(pathlib.Path(__file__).parents[2] / "xsd" /
                                  "kontingent-exchange-1.xsd"))
    xsd.validate(r.content)
    got = {(e.get("organization"), int(e.get("grade"))):
           int(e.get("count")) if e.get("suppressed") is None else None
           for e in ET.fromstring(r.content) if e.get("organization") in orgs}
    assert matches_suppressed(got, want)
    r = report(client, region_cert, dims, "image/svg+xml", organization=orgs[0])
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    svg = ET.fromstring(r.content)
    bars = svg.findall(".//{http://www.w3.org/2000/svg}rect")[1:]  # the first is the background
    assert len(bars) == sum(1 for k in want if k[0] == orgs[0])
    # Bars by the school's short name, not its ОГРН; dates as people write them.
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")
              if t.get("text-anchor") == "end"]
    assert labels and all(label.startswith("МБОУ «Школа № 1» · ") for label in labels), labels
    assert all(orgs[0] not in label for label in labels)
    heading = svg.find(".//{http://www.w3.org/2000/svg}text[@id='t']").text
    d = AS_OF.split("-")
    assert heading.startswith(f"Контингент на {d[2]}.{d[1]}.{d[0]}: "), heading
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "Состоят на учёте, но не обучаются на эту дату: " in texts
    assert svg.find(".//{http://www.w3.org/2000/svg}g[@class='axis']") is not None


def read_csv(resp):
    """The people's CSV dialect (docs/reports.md): BOM, ";", CRLF, headers in the language."""
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")
    text = resp.content.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def test_contingent_csv_in_english_and_as_a_file(client, region_cert, population):
    orgs, _, _ = population
    r = client.get("/api/v1/reports/contingent", cert=region_cert,
                   headers={"Accept": "text/csv", "Accept-Language": "en"},
                   params={"as_of": AS_OF, "group_by": "organization,sex"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Language"] == "en"
    assert r.headers["Content-Disposition"] == f'attachment; filename="contingent-{AS_OF}.csv"'
    rows = read_csv(r)
    assert list(rows[0]) == ["OGRN", "Organisation", "Sex", "Students"]
    assert {row["Sex"] for row in rows} <= {"male", "female", "not given"}


def test_a_transfer_after_as_of_counts_at_the_old_school(client, region_cert, population):
    orgs, items, ids = population
    late = [(sid, it) for sid, it in zip(ids, items) if it[3] and it[3][0][2] > AS_OF]
    assert late, "the population has no late transfer"
    sid, (_, _, facts, moves) = late[0]
    now = client.get(f"/api/v1/students/{sid}", cert=region_cert).json()
    assert now["organization"] == moves[0][1] != facts["organization"] == moves[0][0]


def test_known_at_reproduces_an_earlier_answer(client, region_cert, population):
    orgs, items, _ = population
    before = report(client, region_cert, ["organization"], known_at="2000-01-01").json()
    # A date ends with the region's day (KT_TIMEZONE), answered as that UTC instant.
    assert before["total"] == 0 and before["known_at"] == region_day_end("2000-01-01")
    if TIMEZONE.key == "Europe/Moscow":  # the stacks' default: UTC+3 then
        assert before["known_at"] == "2000-01-01T20:59:59.999Z"
    now = report(client, region_cert, ["organization"]).json()
    later = report(client, region_cert, ["organization"], known_at="2099-01-01T00:00:00Z").json()
    assert later["rows"] == now["rows"] and now["known_at"] is None
    assert later["known_at"] == "2099-01-01T00:00:00.000Z"


def test_migration_matches_an_independent_count(client, region_cert, population):
    orgs, items, _ = population
    r = client.get("/api/v1/reports/migration", cert=region_cert,
                   params={"from": "2026-01-01", "to": "2026-09-30"})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    moves = [m for _, _, _, ms in items for m in ms if "2026-01-01" <= m[2] <= "2026-09-30"]
    want = Counter((a, b) for a, b, _ in moves)
    got = {(f["from"], f["to"]): f["count"] for f in body["flows"]
           if f["from"] in orgs and f["to"] in orgs}
    assert matches_suppressed(got, dict(want))
    muni = {o: "92701000" if i < 2 else "92630000" for i, o in enumerate(orgs)}
    want_m = Counter((muni[a], muni[b]) for a, b, _ in moves)
    got_m = {(f["from"], f["to"]): f["count"] for f in body["municipalities"]}
    for k, n in want_m.items():
        # other tests' schools share these municipalities; a hidden count is at least 1
        assert got_m[k] is None or got_m[k] >= n
    per_org = {o["organization"]: o for o in body["organizations"]}
    for org in orgs:
        outs = sum(n for (a, _), n in want.items() if a == org)
        ins = sum(n for (_, b), n in want.items() if b == org)
        if not outs and not ins:
            assert org not in per_org
            continue
        assert count_ok(per_org[org]["out"], outs) and count_ok(per_org[org]["in"], ins)
        assert per_org[org]["net"] in (ins - outs, None)
        assert per_org[org]["oktmo"] == muni[org]


def test_health_dimensions_need_the_health_scope(client, region_cert, token):
    org = new_org()
    admin = token("admin", scope="health")
    basis = {"kind": "LAW", "law_ref": "273-ФЗ ст. 41"}
    blocks = [
        {"health_group": "II", "disability": {"group": "II", "from": "2026-01-01",
                                              "until": "2030-01-01"},
         "ovz": {"pmpk_conclusion_no": "ПМПК-1", "date": "2026-02-01",
                 "recommended_program": "АООП НОО"}, "legal_basis": basis},
        {"health_group": "I", "legal_basis": basis},
        None,
    ]
    for block in blocks:
        body = student(org=org) | ({"health": block} if block else {})
        r = client.post("/api/v1/students", token=admin, json=body,
                        params={"purpose": "отчёт"})
        assert r.status_code == 201, r.text[:300]
        ev = enroll(org, "2025-09-01", 3, "FULL_TIME")
        r = client.post(f"/api/v1/students/{r.json()['id']}/events", cert=region_cert, json=ev)
        assert r.status_code == 201, r.text[:300]
    params = {"as_of": AS_OF, "organization": org, "group_by": "health_group,disability,ovz"}
    url = "/api/v1/reports/contingent"
    rows = client.get(url, token=token("ministry", scope="health"), params=params).json()["rows"]
    got = {(r["health_group"], r["disability"], r["ovz"]): r["count"] for r in rows}
    # Cells of one child each: suppressed (docs/reports.md), never shown.
    assert got == {("I", "NONE", "NO"): None, ("II", "II", "YES"): None, (None, None, None): None}
    for who in (token("ministry"), token("region", scope="health")):
        assert_problem(client.get(url, token=who, params=params), 403, "FORBIDDEN")
    plain = client.get(url, token=token("ministry"), params=params | {"group_by": "grade"})
    assert plain.json()["rows"] == [{"grade": 3, "count": None, "suppressed": True}]
