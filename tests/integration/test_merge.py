"""Merge and unmerge (issue 16, item 3): two records of one child become one — the survivor's
new version combines them, the duplicate's final version is `merged` and points to the
survivor, its claims move, its reads answer 301 — and an unmerge restores both from their
histories. verify stays clean, reports and export never count a merged record, and a client
following the change feed ends with exactly the records the registry holds."""

import concurrent.futures
import xml.etree.ElementTree as ET

import pytest

from conftest import assert_problem, new_org, region_today, run_ctl
from kt_data import new_birth_cert_number, new_snils, student
from test_packages import NS

S = "/api/v1/students"
PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="merge-tests")


def create(client, tok, doc):
    r = client.post(S, token=tok, json=doc, params={"reason": "приказ № 1"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def get(client, tok, sid):
    return client.get(f"{S}/{sid}", token=tok, allow_redirects=False)


def merge(client, tok, survivor, duplicate, prefer=None, reason="дубликат: один ребёнок",
          headers=None):
    body = {"duplicate": duplicate, "reason": reason}
    if prefer is not None:
        body["prefer"] = prefer
    return client.post(f"{S}/{survivor}/merge", token=tok, json=body, headers=headers)


def unmerge(client, tok, survivor, duplicate, reason="объединены ошибочно", headers=None):
    return client.post(f"{S}/{survivor}/unmerge", token=tok,
                       json={"duplicate": duplicate, "reason": reason}, headers=headers)


def history(client, tok, sid):
    r = client.get(f"{S}/{sid}/history", token=tok, params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def twins(org=None):
    """Two records of one child entered by two schools: the second without СНИЛС, another
    birth certificate, a typo in the surname, another birth place and representative."""
    org = org or new_org()
    a = student(org=org)
    b = student(org=new_org(), snils=False, last_name="Иваноова", birth_place="Казань")
    b["documents"][0]["number"] = new_birth_cert_number()
    b["representatives"] = [{"kind": "FATHER", "last_name": "Иванов", "first_name": "Пётр"}]
    return a, b


def verify_clean():
    r = run_ctl("verify", check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_merge_combines_refuses_conflicts_and_redirects(client, region):
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)

    r = merge(client, region, s, d)
    body = assert_problem(r, 422, "MERGE_CONFLICT")
    assert sorted(e["pointer"] for e in body["errors"]) == [
        "/birth_place", "/last_name", "/organization"]
    assert get(client, region, d).status_code == 200  # nothing written

    r = merge(client, region, s, d, prefer={"last_name": "survivor", "/organization": "survivor",
                                            "birth_place": "duplicate"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["survivor"] == {"id": s, "version": 2, "state": "ACTIVE"}
    assert out["duplicate"] == {"id": d, "version": 2, "state": "MERGED"}
    assert out["identity_differs"] == []  # one typo is the same person

    merged = get(client, region, s).json()
    assert merged["last_name"] == a["last_name"] and merged["birth_place"] == "Казань"
    assert merged["snils"] == a["snils"]
    numbers = sorted(x["number"] for x in merged["documents"])
    assert numbers == sorted([a["documents"][0]["number"], b["documents"][0]["number"]])
    assert [p["kind"] for p in merged["representatives"]] == ["MOTHER", "FATHER"]

    gone = get(client, region, d)
    problem = assert_problem(gone, 301, "MERGED")
    assert problem["merged_into"] == s
    assert gone.headers["Location"] == f"{S}/{s}"
    assert gone.headers.get("Cache-Control") == "no-store"
    # Followed, the redirect lands on the survivor.
    assert client.get(f"{S}/{d}", token=region).json()["id"] == s
    # Writes to the merged record are 410 with the same pointer.
    w = client.patch(f"{S}/{d}", token=region, data='{"birth_place": "X"}', headers=PATCH)
    assert assert_problem(w, 410, "GONE")["merged_into"] == s

    top_s, top_d = history(client, region, s)[0], history(client, region, d)[0]
    assert top_s["kind"] == "merge" and top_d["kind"] == "merged"
    assert top_d["state"] == "MERGED"
    assert top_d["merged_into"] == s and top_s["merged_from"] == d
    assert top_d["reason"] == "дубликат: один ребёнок"
    v = client.get(f"{S}/{d}/versions/2", token=region).json()
    assert v["state"] == "MERGED" and v["last_name"] == b["last_name"]
    assert client.get(f"{S}/{d}/versions/1", token=region).json()["state"] == "ACTIVE"
    verify_clean()


def test_wrong_merges_are_refused_with_clear_codes(client, region, token):
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)
    assert_problem(merge(client, region, s, s), 422, "MERGE_SELF")
    assert_problem(merge(client, region, s, "00000000-0000-4000-8000-000000000000"), 422,
                   "REF_NOT_FOUND")
    assert_problem(merge(client, region, s, "not-an-id"), 422, "VALIDATION")
    assert_problem(merge(client, region, s, d, reason=""), 422, "REQUIRED")
    bad = assert_problem(merge(client, region, s, d, prefer={"height": "survivor",
                                                             "sex": "both"}), 422, "VALIDATION")
    assert sorted(e["pointer"] for e in bad["errors"]) == ["/prefer/height", "/prefer/sex"]
    r = client.post(f"{S}/{s}/merge", token=region,
                    json={"duplicate": d, "reason": "x", "also": 1})
    assert_problem(r, 422, "VALIDATION")
    for role in ("school", "ministry", "auditor"):
        t = token(role, org=a["organization"]) if role == "school" else token(role)
        assert_problem(merge(client, t, s, d), 403, "FORBIDDEN")
    gone = create(client, region, student(org=a["organization"]))
    assert client.delete(f"{S}/{gone}", token=region, params={"reason": "x"}).status_code == 204
    assert_problem(merge(client, region, s, gone), 409, "MERGE_STATE")
    assert_problem(merge(client, region, gone, s), 410, "GONE")

    everything = {"last_name": "survivor", "organization": "survivor", "birth_place": "survivor"}
    assert merge(client, region, s, d, prefer=everything).status_code == 200
    again = assert_problem(merge(client, region, s, d, prefer=everything), 409, "ALREADY_MERGED")
    assert again["merged_into"] == s
    assert_problem(merge(client, region, d, s), 409, "MERGE_STATE")
    third = create(client, region, student(org=a["organization"], snils=False))
    assert_problem(merge(client, region, third, d), 409, "MERGE_STATE")
    verify_clean()


def test_claims_move_to_the_survivor_and_come_back_on_unmerge(client, region):
    a, b = twins()
    a.pop("snils")
    b["snils"] = new_snils()
    s, d = create(client, region, a), create(client, region, b)
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "survivor"}
    assert merge(client, region, s, d, prefer=prefer).status_code == 200
    assert get(client, region, s).json()["snils"] == b["snils"]  # taken from the one side

    # The duplicate's СНИЛС and document are the survivor's now.
    r = client.post(S, token=region, json=student(snils=False) | {"snils": b["snils"]})
    assert assert_problem(r, 409, "DUPLICATE_SNILS")["existing_id"] == s
    doc = student(snils=False)
    doc["documents"] = b["documents"]
    assert assert_problem(client.post(S, token=region, json=doc), 409,
                          "DUPLICATE_DOCUMENT")["existing_id"] == s

    # A change after the merge in a field the merge did not touch survives the unmerge.
    r = client.patch(f"{S}/{s}", token=region, data='{"middle_name": "Павловна"}',
                     headers=PATCH)
    assert r.status_code == 200, r.text
    r = unmerge(client, region, s, d)
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"]["state"] == "ACTIVE"
    back_s, back_d = get(client, region, s).json(), get(client, region, d).json()
    assert "snils" not in back_s and back_s["middle_name"] == "Павловна"
    assert back_s["documents"] == a["documents"]
    assert back_d["snils"] == b["snils"] and back_d["last_name"] == b["last_name"]
    assert back_d["version"] == 3
    assert [v["kind"] for v in history(client, region, d)] == ["unmerged", "merged", "create"]
    assert [v["kind"] for v in history(client, region, s)][:3] == ["unmerge", "update", "merge"]
    r = client.post(S, token=region, json=student(snils=False) | {"snils": b["snils"]})
    assert assert_problem(r, 409, "DUPLICATE_SNILS")["existing_id"] == d
    assert_problem(unmerge(client, region, s, d), 409, "NOT_MERGED")
    verify_clean()


def test_unmerge_refuses_changes_to_merged_fields(client, region):
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "duplicate"}
    assert merge(client, region, s, d, prefer=prefer).status_code == 200
    r = client.patch(f"{S}/{s}", token=region, data='{"birth_place": "Набережные Челны"}',
                     headers=PATCH)
    assert r.status_code == 200, r.text
    body = assert_problem(unmerge(client, region, s, d), 409, "UNMERGE_CONFLICT")
    assert [e["pointer"] for e in body["errors"]] == ["/birth_place"]
    assert get(client, region, d).status_code == 301  # nothing written


def test_concurrent_merges_of_one_pair_write_one_merge(client, region):
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "survivor"}
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda _: merge(client, region, s, d, prefer=prefer).status_code,
                              range(6)))
    assert 200 in codes and set(codes) <= {200, 409}, codes
    assert [v["kind"] for v in history(client, region, d)] == ["merged", "create"]
    assert [v["kind"] for v in history(client, region, s)] == ["merge", "create"]
    verify_clean()


def test_merge_against_an_update_of_the_duplicate(client, region):
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "survivor"}

    def patch(n):
        name = ["Павловна", "Сергеевна", "Андреевна"][n]
        return client.patch(f"{S}/{d}", token=region, data=f'{{"middle_name": "{name}"}}',
                            headers=PATCH).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(patch, n) for n in range(3)]
        merged = pool.submit(merge, client, region, s, d, {**prefer, "middle_name": "survivor"})
        codes = [f.result() for f in futures]
    assert merged.result().status_code == 200, merged.result().text
    assert set(codes) <= {200, 410}, codes
    kinds = [v["kind"] for v in history(client, region, d)]
    assert kinds[0] == "merged" and kinds.count("merged") == 1
    # Every update the duplicate took before its merge is in the merged version's document.
    last = client.get(f"{S}/{d}/versions/{len(kinds)}", token=region).json()
    before = client.get(f"{S}/{d}/versions/{len(kinds) - 1}", token=region).json()
    assert last["middle_name"] == before["middle_name"]
    verify_clean()


def not_enrolled(client, tok):
    """The region's students without an education episode as of today (the tests here
    enrol nobody, and no other test writes meanwhile: files run on stacks of their own)."""
    r = client.get("/api/v1/reports/contingent", token=tok,
                   params={"group_by": "", "as_of": region_today().isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["not_enrolled"] is not None, r.text  # not suppressed: more than a few
    return r.json()["not_enrolled"]


def exported(client, tok, org):
    r = client.get("/api/v1/export", token=tok, params={"organization": org})
    assert r.status_code == 200, r.text[:300]
    return {x.get("id") for x in ET.fromstring(r.content).find(f"{{{NS}}}Data")}


def test_reports_search_and_export_never_count_a_merged_record(client, region):
    org = new_org()
    ids = [create(client, region, student(org=org)) for _ in range(6)]
    b = student(org=org, snils=False, birth_place="Казань")
    dup = create(client, region, b)
    counted = not_enrolled(client, region)
    r = merge(client, region, ids[0], dup, prefer={"birth_place": "survivor"})
    assert r.status_code == 200, r.text
    assert not_enrolled(client, region) == counted - 1
    assert exported(client, region, org) == set(ids)
    found = client.get(S, token=region, params={"organization": org, "limit": 100}).json()
    assert {x["id"] for x in found["items"]} == set(ids)
    assert unmerge(client, region, ids[0], dup).status_code == 200
    assert not_enrolled(client, region) == counted


def test_a_feed_follower_ends_with_the_registrys_records(client, region):
    """A client keeps a copy from the feed: on each entry it reads the record; 200 stores
    it, 301 (merged), 410 (deleted) and 404 drop it."""
    start = client.get("/api/v1/changes", token=region, params={"limit": 1}).json()
    cursor = start["next_cursor"]
    while True:
        page = client.get("/api/v1/changes", token=region,
                          params={"since": cursor, "limit": 500}).json()
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "survivor"}
    pairs = [twins() for _ in range(3)]
    made = [(create(client, region, a), create(client, region, b)) for a, b in pairs]
    for s, d in made:
        assert merge(client, region, s, d, prefer=prefer).status_code == 200
    s0, d0 = made[0]
    assert unmerge(client, region, s0, d0).status_code == 200
    r = client.patch(f"{S}/{d0}", token=region, data='{"birth_place": "Елабуга"}', headers=PATCH)
    assert r.status_code == 200, r.text

    copy, kinds = {}, set()
    while True:
        page = client.get("/api/v1/changes", token=region,
                          params={"since": cursor, "limit": 3}).json()
        if not page["items"]:
            break
        for e in page["items"]:
            kinds.add(e["kind"])
            r = get(client, region, e["student_id"])
            if r.status_code == 200:
                copy[e["student_id"]] = r.json()
            else:
                assert r.status_code in (301, 404, 410), r.text
                copy.pop(e["student_id"], None)
        cursor = page["next_cursor"]
    assert {"merge", "merged", "unmerge", "unmerged"} <= kinds
    mine = {i for pair in made for i in pair}
    registry = {}
    for i in mine:
        r = get(client, region, i)
        if r.status_code == 200:
            registry[i] = r.json()
    assert {i: v for i, v in copy.items() if i in mine} == registry
    assert set(registry) == {s0, d0, made[1][0], made[2][0]}
    verify_clean()


CUT = {"X-Kt-Fault": "crash-between-sides"}


def test_a_pair_cut_between_its_two_writes_is_reported_and_completed(client, region, workers,
                                                                      mongo):
    """MongoDB has no transaction: a worker killed between the duplicate's version and the
    survivor's leaves the duplicate merged and the survivor without the merge. verify lists
    it as INCOMPLETE; the same request again completes it. The same for an unmerge."""
    a, b = twins()
    s, d = create(client, region, a), create(client, region, b)
    prefer = {"last_name": "survivor", "organization": "survivor", "birth_place": "duplicate"}
    assert merge(client, region, s, d, prefer=prefer, headers=CUT).status_code >= 500
    workers.wait()
    assert get(client, region, d).status_code == 301
    assert [v["kind"] for v in history(client, region, s)] == ["create"]
    out = run_ctl("verify", check=False)
    assert out.returncode == 0, out.stdout[-2000:]
    assert f"INCOMPLETE student {d}: merged into {s}" in out.stdout

    r = merge(client, region, s, d, prefer=prefer)
    assert r.status_code == 200, r.text
    assert r.json()["completed"] is True
    assert get(client, region, s).json()["birth_place"] == b["birth_place"]
    assert_problem(merge(client, region, s, d, prefer=prefer), 409, "ALREADY_MERGED")
    out = run_ctl("verify")
    assert f"INCOMPLETE student {d}" not in out.stdout

    assert unmerge(client, region, s, d, headers=CUT).status_code >= 500
    workers.wait()
    assert get(client, region, s).json()["birth_place"] == a["birth_place"]
    assert get(client, region, d).status_code == 301
    assert f"INCOMPLETE student {d}" in run_ctl("verify").stdout
    r = unmerge(client, region, s, d)
    assert r.status_code == 200 and r.json()["completed"] is True, r.text
    assert get(client, region, d).json()["last_name"] == b["last_name"]
    assert [v["kind"] for v in history(client, region, d)] == ["unmerged", "merged", "create"]
    assert f"INCOMPLETE student {d}" not in run_ctl("verify").stdout
