"""Probable duplicates (issue 16, item 2; docs/duplicates.md): a create whose candidates score
at or above the threshold is accepted and flagged — the JSON answer carries "duplicates", a
package item's receipt a PROBABLE_DUPLICATE warning — and the pair is listed for the region's
operators (GET /api/v1/duplicates, newest first, by school or municipality, in pages) until one
dismisses it with a reason. The planted pairs of the issue are found: a typo, ё/е, a Latin
transliteration, swapped first and middle names, a missing СНИЛС; a namesake born on another day
and a twin are not flagged. Every answer naming students is access-logged."""

import io
import pathlib
import random
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from conftest import STORE, assert_problem, new_org, run_ctl
from kt_data import SCHOOL_A, SCHOOL_B, new_birth_cert_number, student
from test_packages import NS, packet, post, student_xml

ROOT = pathlib.Path(__file__).resolve().parents[2]
S = "/api/v1/students"
D = "/api/v1/duplicates"
THRESHOLD = 70

_rng = random.Random()
# Syllables whose Latin spelling is unambiguous: a surname made of three is this test's own
# (the stack's store is shared by every test file, full of Ивановы born on 2015-03-14).
SYLLABLES = [("ба", "ba"), ("ве", "ve"), ("го", "go"), ("ду", "du"), ("ки", "ki"), ("ла", "la"),
             ("мо", "mo"), ("ну", "nu"), ("пе", "pe"), ("ри", "ri"), ("со", "so"), ("ту", "tu"),
             ("фа", "fa"), ("зе", "ze"), ("бо", "bo"), ("ли", "li"), ("ме", "me"), ("ро", "ro")]


def surname():
    """A new surname and its Latin spelling: Бадуки-ова, Badukiova."""
    parts = [_rng.choice(SYLLABLES) for _ in range(4)]
    cyr = "".join(c for c, _ in parts)
    lat = "".join(l for _, l in parts)
    return cyr[0].upper() + cyr[1:] + "ова", lat[0].upper() + lat[1:] + "ova"


def birth_date():
    return f"{_rng.randint(2009, 2019)}-{_rng.randint(1, 12):02d}-{_rng.randint(1, 28):02d}"


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="duplicates-tests")


@pytest.fixture(scope="module")
def admin(token):
    return token("admin", sub="duplicates-admin")


def child(last, first="Мария", middle="Петровна", born=None, org=SCHOOL_A, snils=True, **kw):
    doc = student(org=org, snils=snils, last_name=last, first_name=first, birth_date=born,
                  **kw)
    if middle is None:
        doc.pop("middle_name")
    else:
        doc["middle_name"] = middle
    doc["documents"][0]["number"] = new_birth_cert_number()
    doc["documents"][0]["issued_on"] = born or doc["birth_date"]
    return doc


def flagged_pairs(header):
    """X-Probable-Duplicates: "<pair>;score=<n>[;student=<id>]", comma-separated."""
    pairs = []
    for item in filter(None, (header or "").split(", ")):
        pair, *params = item.split(";")
        one = {"pair": pair}
        for p in params:
            k, v = p.split("=", 1)
            one["score" if k == "score" else "student_id"] = int(v) if k == "score" else v
        pairs.append(one)
    return pairs


def create(client, tok, doc):
    """The 201 body (the stored student), with the pairs its X-Probable-Duplicates header names
    as "duplicates" when there are some."""
    r = client.post(S, token=tok, json=doc, params={"reason": "приказ № 1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert "duplicates" not in body  # the body is the stored student
    pairs = flagged_pairs(r.headers.get("X-Probable-Duplicates"))
    return body | ({"duplicates": pairs} if pairs else {})


def original(client, tok, org=SCHOOL_A, yo=False, **kw):
    """A child with a СНИЛС at school A: the record a planted duplicate copies (with yo, a
    surname that begins with «Се», to be written «Сё»)."""
    last, latin = surname()
    if yo:
        last = "Се" + last[2:]
    doc = child(last, born=birth_date(), org=org, **kw)
    return create(client, tok, doc), doc, latin


# --- the planted pairs -------------------------------------------------------------------------


def variants(doc, latin):
    """(what, the duplicate's fields, fields that must agree) of each planted kind."""
    last = doc["last_name"]
    return [
        ("typo", {"last_name": last[:2] + last[3] + last[2] + last[4:]}, {"birth_date"}),
        ("yo", {"last_name": "Сё" + last[2:], "first_name": "Алёна"},
         {"last_name", "birth_date"}),
        ("latin", {"last_name": latin, "first_name": "Mariya", "middle_name": "Petrovna"},
         {"last_name", "first_name", "middle_name", "birth_date"}),
        ("swapped", {"first_name": doc["middle_name"], "middle_name": doc["first_name"]},
         {"first_middle_swapped"}),
        ("no snils", {}, {"last_name", "first_name", "birth_date", "sex"}),
    ]


@pytest.mark.parametrize("kind", ["typo", "yo", "latin", "swapped", "no snils"])
def test_planted_duplicate_is_flagged_and_listed(client, region, kind):
    first = "Алена" if kind == "yo" else "Мария"
    orig, doc, latin = original(client, region, first=first, yo=kind == "yo")
    what, fields, agree = next(v for v in variants(doc, latin) if v[0] == kind)
    dup = {k: v for k, v in doc.items() if k != "snils"} | fields | {"organization": SCHOOL_B}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    made = create(client, region, dup)
    assert "duplicates" in made, made
    flagged = {d["student_id"]: d for d in made["duplicates"]}
    assert orig["id"] in flagged, made["duplicates"]
    pair = flagged[orig["id"]]
    assert pair["score"] >= THRESHOLD
    # The duplicate's candidates, and the original's: each names the other.
    for a, b in ((made["id"], orig["id"]), (orig["id"], made["id"])):
        r = client.get(f"{S}/{a}/duplicates", token=region)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["student_id"] == a and body["threshold"] == THRESHOLD
        hit = [c for c in body["items"] if c["student_id"] == b]
        assert hit and hit[0]["score"] == pair["score"], body
        assert hit[0]["last_name"] and hit[0]["birth_date"]
    # The open pair, in the list of either school, with the fields that agree.
    for org in (SCHOOL_A, SCHOOL_B):
        listed = pair_listed(client, region, pair["pair"], organization=org)
        assert listed and listed["score"] == pair["score"], listed
        assert agree <= set(listed["agree"]), listed


def test_a_namesake_born_another_day_and_a_twin_are_not_flagged(client, region):
    orig, doc, _ = original(client, region)
    year, month, _ = doc["birth_date"].split("-")
    # The same year (the names + year blocking key finds it), another day that no swap of day
    # and month makes equal.
    born = f"{year}-{int(month) % 12 + 1:02d}-28"
    other_day = child(doc["last_name"], born=born, snils=False)
    made = create(client, region, other_day)
    assert "duplicates" not in made
    # Listed as a candidate (the names agree), below the threshold.
    body = client.get(f"{S}/{made['id']}/duplicates", token=region).json()
    hit = [c for c in body["items"] if c["student_id"] == orig["id"]]
    assert hit and hit[0]["score"] < THRESHOLD and "birth_date" not in hit[0]["agree"]
    twin = child(doc["last_name"], first="Анна", born=doc["birth_date"], snils=False)
    assert "duplicates" not in create(client, region, twin)


def test_two_different_snils_are_not_flagged_but_shown_to_operators(client, region):
    """Two valid, different СНИЛС are two persons at create time (the search leaves out the
    records that hold one); an operator still sees the candidate, penalised, below the
    threshold."""
    orig, doc, _ = original(client, region)
    other = child(doc["last_name"], born=doc["birth_date"], org=SCHOOL_B)  # a СНИЛС of its own
    made = create(client, region, other)
    assert "duplicates" not in made
    body = client.get(f"{S}/{made['id']}/duplicates", token=region).json()
    hit = [c for c in body["items"] if c["student_id"] == orig["id"]]
    assert hit and 50 <= hit[0]["score"] < THRESHOLD, body


def test_a_package_item_creating_a_duplicate_carries_a_warning(client, region, region_cert):
    orig, doc, latin = original(client, region)
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"last_name": latin,
                                                            "first_name": "Maria"}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    _, body = packet([student_xml(dup, local_id="d1")])
    r = post(client, body, cert=region_cert)
    assert r.status_code == 200, r.text[:500]
    root = ET.fromstring(r.content)
    item = root.find(f"{{{NS}}}Items")[0]
    assert item.get("result") == "CREATED"
    warnings = item.findall(f"{{{NS}}}Warning")
    assert warnings and warnings[0].get("code") == "PROBABLE_DUPLICATE", r.text[:800]
    assert orig["id"] not in r.text  # the receipt names the pair, not the other child
    xsd = xmlschema.XMLSchema10(str(ROOT / "xsd" / "kontingent-exchange-1.xsd"))
    xsd.validate(io.BytesIO(r.content))  # <Warning> is the schema's
    cands = client.get(f"{S}/{item.get('id')}/duplicates", token=region).json()["items"]
    assert any(c["student_id"] == orig["id"] and c["score"] >= THRESHOLD for c in cands)
    assert root.findtext(f"{{{NS}}}Status") == "PROCESSED"


# --- the list ----------------------------------------------------------------------------------


def pair_listed(client, tok, pair_id, **params):
    cursor = None
    while True:
        r = client.get(D, token=tok, params={**params, "limit": 500,
                                             **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        hit = [p for p in body["items"] if p["id"] == pair_id]
        if hit:
            return hit[0]
        cursor = body["next_cursor"]
        if cursor is None:
            return None


def planted_pair(client, tok, org, born=None):
    """An original at org and its copy without СНИЛС at school B: the pair's id."""
    last, _ = surname()
    doc = child(last, born=born or birth_date(), org=org)
    orig = create(client, tok, doc)
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"organization": SCHOOL_B}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    made = create(client, tok, dup)
    return next(d["pair"] for d in made["duplicates"] if d["student_id"] == orig["id"])


def test_list_by_school_and_municipality_newest_first_in_pages(client, region, admin):
    oktmo = f"9{_rng.randint(10**6, 10**7 - 1)}"
    school = new_org(oktmo=oktmo)
    pairs = [planted_pair(client, region, school) for _ in range(3)]
    seen, cursor = [], None
    for _ in range(3):
        r = client.get(D, token=admin, params={"organization": school, "limit": 2,
                                              **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [p["id"] for p in seen] == pairs[::-1]  # newest first
    times = [p["created"] for p in seen]
    assert times == sorted(times, reverse=True)
    p = seen[0]
    assert p["state"] == "open" and school in p["organizations"] and SCHOOL_B in p["organizations"]
    assert p["score"] >= THRESHOLD and len(p["students"]) == 2 and "agree" in p
    by_mun = client.get(D, token=region, params={"municipality": oktmo}).json()["items"]
    assert [q["id"] for q in by_mun] == pairs[::-1]


@pytest.mark.parametrize("params", [
    {"organization": "1027700132194"},  # bad check digit
    {"municipality": "9270"},
    {"organization": SCHOOL_A, "municipality": "92701000"},
    {"cursor": "nonsense"},
    {"cursor": "2026-09-01T10:00:00.000Z_not-a-uuid"},
    {"limit": "0"},
])
def test_bad_list_queries_are_400(client, region, params):
    assert_problem(client.get(D, token=region, params=params), 400)


# --- dismissal ---------------------------------------------------------------------------------


def test_dismissed_pair_leaves_the_list_and_keeps_who_when_why(client, region, admin):
    school = new_org()
    pair = planted_pair(client, region, school)
    r = client.post(f"{D}/{pair}/dismiss", token=admin)
    assert_problem(r, 422, "REQUIRED")
    r = client.post(f"{D}/{pair}/dismiss", token=admin,
                    params={"reason": "близнецы, проверено по свидетельствам"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == pair and body["state"] == "dismissed"
    assert body["dismissed"]["subject"] == "duplicates-admin"
    assert body["dismissed"]["role"] == "admin"
    assert body["dismissed"]["reason"] == "близнецы, проверено по свидетельствам"
    assert not pair_listed(client, region, pair, organization=school)
    assert not pair_listed(client, region, pair)
    again = client.post(f"{D}/{pair}/dismiss", token=region, params={"reason": "ещё раз"})
    assert again.status_code == 200
    assert again.json()["dismissed"] == body["dismissed"]  # the first dismissal stands
    assert_problem(client.post(f"{D}/00000000-0000-4000-8000-000000000000/dismiss",
                               token=admin, params={"reason": "x"}), 404, "NOT_FOUND")
    assert_problem(client.post(f"{D}/nonsense/dismiss", token=admin, params={"reason": "x"}),
                   404, "NOT_FOUND")


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["school", "ministry", "auditor"])
def test_only_the_region_and_admins_see_duplicates(client, token, region, role):
    orig, _, _ = original(client, region)
    tok = token(role, org=SCHOOL_A) if role == "school" else token(role)
    for method, path, params in (
            ("get", f"{S}/{orig['id']}/duplicates", {}),
            ("get", D, {}),
            ("post", f"{D}/00000000-0000-4000-8000-000000000000/dismiss", {"reason": "x"})):
        assert_problem(getattr(client, method)(path, token=tok, params=params), 403, "FORBIDDEN")


def test_school_create_names_only_its_own_candidates(client, token, region):
    """A school's create is flagged all the same, but the answer names no student of another
    school: the pair's id and score only."""
    orig, doc, _ = original(client, region, org=SCHOOL_B)
    school = token("school", org=SCHOOL_A, sub="duplicates-school")
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"organization": SCHOOL_A}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    made = create(client, school, dup)
    assert made["duplicates"] and all("student_id" not in d for d in made["duplicates"])
    assert orig["id"] not in str(made)
    assert pair_listed(client, region, made["duplicates"][0]["pair"], organization=SCHOOL_B)


def test_reading_candidates_is_access_logged(client, token, region):
    orig, _, _ = original(client, region)
    assert client.get(f"{S}/{orig['id']}/duplicates", token=region).status_code == 200
    auditor = token("auditor")
    r = client.get("/api/v1/audit/access", token=auditor,
                   params={"student": orig["id"], "subject": "duplicates-tests"})
    assert r.status_code == 200, r.text
    assert "student_duplicates" in {e["what"] for e in r.json()["items"]}


def test_deleted_student_has_no_candidates_and_is_none(client, region):
    orig, doc, _ = original(client, region)
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"organization": SCHOOL_B}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    r = client.delete(f"{S}/{orig['id']}", token=region, params={"reason": "ошибка ввода"})
    assert r.status_code == 204
    assert_problem(client.get(f"{S}/{orig['id']}/duplicates", token=region), 410, "GONE")
    assert "duplicates" not in create(client, region, dup)  # deleted: never a candidate
    assert_problem(client.get(f"{S}/00000000-0000-4000-8000-000000000000/duplicates",
                              token=region), 404, "NOT_FOUND")


# --- registries older than the blocking keys ---------------------------------------------------


def strip_blocking_keys(request, sid):
    """What a head written before the blocking keys looks like (docs/duplicates.md, "Existing
    registries"): the search members without dup_*."""
    if STORE == "mongodb":
        heads = request.getfixturevalue("mongo")["students"]
        heads.update_one({"_id": sid}, {"$unset": {"dup_last_date": "", "dup_first_date": "",
                                                  "dup_names_year": ""}})
    else:
        db = request.getfixturevalue("sqlite_db")
        db.execute("DELETE FROM head_keys WHERE id = ? AND field LIKE 'dup_%'", (sid,))


def test_repair_gives_older_heads_their_blocking_keys(client, region, request):
    orig, doc, _ = original(client, region)
    strip_blocking_keys(request, orig["id"])
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"organization": SCHOOL_B}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    made = create(client, region, dup)
    assert "duplicates" not in made  # the search cannot see a head without its keys
    run_ctl("repair")
    cands = client.get(f"{S}/{made['id']}/duplicates", token=region).json()["items"]
    assert any(c["student_id"] == orig["id"] and c["score"] >= THRESHOLD for c in cands)


def test_a_merged_pair_leaves_the_open_list(client, region, admin):
    """Merging the two records of a flagged pair closes it as "merged" (docs/duplicates.md)."""
    school = new_org()
    last, _ = surname()
    doc = child(last, born=birth_date(), org=school)
    orig = create(client, region, doc)
    dup = {k: v for k, v in doc.items() if k != "snils"} | {"organization": SCHOOL_B}
    dup["documents"] = [dup["documents"][0] | {"number": new_birth_cert_number()}]
    made = create(client, region, dup)
    pair = next(d["pair"] for d in made["duplicates"] if d["student_id"] == orig["id"])
    assert pair_listed(client, region, pair, organization=school)
    prefer = {}
    for _ in range(3):  # learn the fields the two records differ in, then keep the original's
        r = client.post(f"{S}/{orig['id']}/merge", token=admin,
                        json={"duplicate": made["id"], "reason": "один ребёнок, две записи",
                              "prefer": prefer})
        if r.status_code != 422:
            break
        body = assert_problem(r, 422, "MERGE_CONFLICT")
        prefer |= {e["pointer"]: "survivor" for e in body["errors"]}
    assert r.status_code == 200, r.text
    assert not pair_listed(client, region, pair, organization=school)
    assert not pair_listed(client, region, pair)
