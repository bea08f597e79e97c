"""Uniqueness of СНИЛС and documents under attack (issue 12, items 3, 5 and 16), through nginx:
concurrent updates to one new key, verify's duplicate-key report, look-alike spellings of a
document, and what a duplicate tells a school about another school's child."""

import concurrent.futures
import threading
import urllib.parse
import uuid

import pytest

from conftest import assert_problem, run_ctl
from kt_data import SCHOOL_A, SCHOOL_B, new_snils, student
from test_packages import packet, post, receipt, student_xml

S = "/api/v1/students"
MERGE = {"Content-Type": "application/merge-patch+json"}
ROUNDS = 12
WRITERS = 4


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="region-sec-claims")


@pytest.fixture(scope="module")
def school_a(token):
    return token("school", org=SCHOOL_A, sub="school-a-sec-claims")


@pytest.fixture(scope="module")
def school_b(token):
    return token("school", org=SCHOOL_B, sub="school-b-sec-claims")


def create(client, tok, doc=None):
    r = client.post(S, token=tok, json=doc or student())
    assert r.status_code == 201, r.text
    return r.json()


_doc_numbers = iter(range(1, 10**6))


def foreign_doc(series="AB", number=None):
    number = number or f"C{uuid.uuid4().int % 10**7:07d}{next(_doc_numbers)}"
    return {"type": "PASSPORT_FOREIGN", "series": series, "number": number,
            "issued_on": "2016-01-10"}


def patch_at_once(client, tok, ids, bodies):
    """PATCHes every student at the same moment (a barrier releases the threads together)."""
    barrier = threading.Barrier(len(ids))

    def one(i):
        barrier.wait()
        return client.patch(f"{S}/{ids[i]}", token=tok, json=bodies[i], headers=MERGE)

    with concurrent.futures.ThreadPoolExecutor(len(ids)) as pool:
        return list(pool.map(one, range(len(ids))))


def holders(client, tok, key_name, value, ids):
    """Which of ids carry value at key_name in their current version."""
    return [i for i in ids if client.get(f"{S}/{i}", token=tok).json().get(key_name) == value]


def test_concurrent_patches_to_one_new_snils_exactly_one_wins(client, region):
    for _ in range(ROUNDS):
        ids = [create(client, region, student(snils=False))["id"] for _ in range(WRITERS)]
        snils = new_snils()
        answers = patch_at_once(client, region, ids, [{"snils": snils}] * WRITERS)
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [409] * (WRITERS - 1), [r.text for r in answers]
        for r in answers:
            if r.status_code == 409:
                assert_problem(r, 409, "DUPLICATE_SNILS")
        assert len(holders(client, region, "snils", snils, ids)) == 1


def test_concurrent_patches_to_one_new_document_exactly_one_wins(client, region):
    for _ in range(ROUNDS):
        ids = [create(client, region)["id"] for _ in range(WRITERS)]
        doc = foreign_doc()
        answers = patch_at_once(client, region, ids, [{"documents": [doc]}] * WRITERS)
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [409] * (WRITERS - 1), [r.text for r in answers]
        carrying = [i for i in ids
                    if client.get(f"{S}/{i}", token=region).json()["documents"] == [doc]]
        assert len(carrying) == 1


def test_verify_reports_a_snils_carried_by_two_active_students(client, region, raw_store):
    first = create(client, region)
    key = f"snils:{first['snils']}"
    # A lost claim (as a store rewritten behind the service's back would leave it) lets a
    # second student take the СНИЛС; verify must see it whatever the claims say.
    raw_store.drop_claims(key=key)
    second = create(client, region, {**student(snils=False), "snils": first["snils"]})
    try:
        out = run_ctl("verify", check=False)
        assert out.returncode == 1, out.stdout
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith("DUPLICATE SNILS"))
        assert first["id"] in line and second["id"] in line
        assert first["snils"] not in out.stdout  # the value itself stays out of the output
        assert "duplicate keys" in out.stdout.splitlines()[-1]
        last = client.get("/api/v1/audit/verify/last", token=region)
        if last.status_code == 200:  # the region may not read it; admins and auditors may
            assert last.json()["duplicates"] >= 1 and last.json()["ok"] is False
    finally:
        r = client.delete(f"{S}/{second['id']}", token=region,
                          headers={"X-Reason": urllib.parse.quote("тест: дубликат СНИЛС")})
        assert r.status_code in (200, 204), r.text
    out = run_ctl("verify", check=False)
    assert f"DUPLICATE SNILS carried by the active students {first['id']}" not in out.stdout


def test_verify_reports_a_document_carried_by_two_active_students(client, region, raw_store,
                                                                   token):
    doc = foreign_doc()
    first = create(client, region, student(documents=[doc]))
    raw_store.drop_claims(student_id=first["id"])
    second = create(client, region, student(documents=[doc]))
    try:
        out = run_ctl("verify", check=False)
        assert out.returncode == 1, out.stdout
        assert any(ln.startswith("DUPLICATE document") and first["id"] in ln
                   and second["id"] in ln for ln in out.stdout.splitlines())
        auditor = token("auditor", sub="auditor-sec-claims")
        last = client.get("/api/v1/audit/verify/last", token=auditor).json()
        assert last["duplicates"] >= 1 and last["ok"] is False
    finally:
        client.delete(f"{S}/{second['id']}", token=region,
                      headers={"X-Reason": urllib.parse.quote("тест: дубликат документа")})
    # repair gives the first student its claim back: a third is refused again.
    run_ctl("repair")
    r = client.post(S, token=region, json=student(documents=[doc]))
    assert_problem(r, 409, "DUPLICATE_DOCUMENT")


LOOK_ALIKES = [
    ("АВ", "С{n}"),            # Cyrillic А, В, С
    ("ab", "c{n}"),            # case
    ("A B", "C {n}"),          # spaces
    ("A-B", "C-{n}"),          # hyphens
    ("A\u200bB", "C\u200d{n}"),  # zero-width space and joiner
    ("а в", "с-{n}"),          # all at once
]


@pytest.mark.parametrize("series,number", LOOK_ALIKES)
def test_look_alike_spelling_of_a_document_is_a_duplicate(client, region, series, number):
    n = f"{uuid.uuid4().int % 10**8:08d}"
    first = create(client, region, student(documents=[foreign_doc("AB", f"C{n}")]))
    other = foreign_doc(series, number.format(n=n))
    r = client.post(S, token=region, json=student(documents=[other]))
    body = assert_problem(r, 409, "DUPLICATE_DOCUMENT")
    assert body["existing_id"] == first["id"]
    # An update to the look-alike is refused the same way.
    mine = create(client, region)
    r = client.patch(f"{S}/{mine['id']}", token=region, json={"documents": [other]},
                     headers=MERGE)
    assert_problem(r, 409, "DUPLICATE_DOCUMENT")
    # Search finds the holder by any spelling.
    found = client.get(S, token=region, params={"document_type": "PASSPORT_FOREIGN",
                                                "document_series": other["series"],
                                                "document_number": other["number"]}).json()
    assert [s["id"] for s in found["items"]] == [first["id"]]


def test_stored_document_keeps_what_was_sent(client, region):
    n = f"{uuid.uuid4().int % 10**8:08d}"
    sent = foreign_doc("а в", f"с-{n}")
    s = create(client, region, student(documents=[sent]))
    got = client.get(f"{S}/{s['id']}", token=region).json()["documents"][0]
    assert (got["series"], got["number"]) == ("а в", f"с-{n}")


def test_duplicate_of_another_schools_student_names_no_id(client, school_a, school_b, region):
    theirs = create(client, school_b, student(org=SCHOOL_B, documents=[foreign_doc()]))
    dup_snils = {**student(org=SCHOOL_A, snils=False), "snils": theirs["snils"]}
    dup_doc = student(org=SCHOOL_A, documents=theirs["documents"])
    for doc, code in ((dup_snils, "DUPLICATE_SNILS"), (dup_doc, "DUPLICATE_DOCUMENT")):
        body = assert_problem(client.post(S, token=school_a, json=doc), 409, code)
        assert "existing_id" not in body and theirs["id"] not in str(body)
        # Its own school and the region are told which student holds it.
        same_school = {**doc, "organization": SCHOOL_B}
        body = assert_problem(client.post(S, token=school_b, json=same_school), 409, code)
        assert body["existing_id"] == theirs["id"]
        body = assert_problem(client.post(S, token=region, json=doc), 409, code)
        assert body["existing_id"] == theirs["id"]
    mine = create(client, school_a, student(org=SCHOOL_A))
    r = client.patch(f"{S}/{mine['id']}", token=school_a, json={"snils": theirs["snils"]},
                     headers=MERGE)
    body = assert_problem(r, 409, "DUPLICATE_SNILS")
    assert "existing_id" not in body and theirs["id"] not in r.text


def test_package_items_for_another_schools_student_answer_as_for_a_missing_one(
        client, school_a, school_b):
    theirs = create(client, school_b, student(org=SCHOOL_B))
    missing = str(uuid.uuid4())
    mine = student(org=SCHOOL_A)
    items = [
        student_xml(mine, "1", sid=theirs["id"]),
        student_xml(mine, "2", sid=missing),
        f'<DeleteStudent id="{theirs["id"]}" localId="3" reason="ошибка"/>',
        f'<DeleteStudent id="{missing}" localId="4" reason="ошибка"/>',
    ]
    _, body = packet(items)
    status, _, got = receipt(post(client, body, token=school_a))
    assert status == "REJECTED", got

    def answer(item):
        return item["result"], [(code, path.rsplit("[", 1)[0]) for code, path in item["errors"]]

    assert answer(got[0]) == answer(got[1]) and got[0]["errors"][0][0] == "NOT_FOUND"
    assert answer(got[2]) == answer(got[3]) and got[2]["errors"][0][0] == "NOT_FOUND"
    assert client.get(f"{S}/{theirs['id']}", token=school_b).json()["version"] == 1


def test_package_item_keyed_by_another_schools_snils_is_a_duplicate(client, school_a, school_b):
    theirs = create(client, school_b, student(org=SCHOOL_B))
    item = {**student(org=SCHOOL_A, snils=False), "snils": theirs["snils"]}
    _, body = packet([student_xml(item, "1")])
    status, _, got = receipt(post(client, body, token=school_a))
    assert status == "REJECTED"
    assert got[0]["errors"][0][0] == "DUPLICATE_SNILS"
    assert theirs["id"] not in str(got)
    assert client.get(f"{S}/{theirs['id']}", token=school_b).json()["version"] == 1
