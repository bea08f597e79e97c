"""Organisations through nginx: the registry of schools — create, read, replace, patch with
If-Match, history with field-level changes, versions, as_of, the list and its filters, the
XML view, roles, the reference of a student to its organisation (REF_NOT_FOUND, JSON and
packages), organisations in packages, and verify over organisations."""

import concurrent.futures
import io
import pathlib
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import assert_problem, ensure_org, run_ctl
from kt_data import new_ogrn, organization, student

O = "/api/v1/organizations"
S = "/api/v1/students"
P = "/api/v1/packages"
MERGE = {"Content-Type": "application/merge-patch+json"}
NS = "urn:kontingent:exchange:1"
XSD = pathlib.Path(__file__).resolve().parents[2] / "xsd" / "kontingent-exchange-1.xsd"


@pytest.fixture(scope="module")
def region(token):
    return token("region", sub="region-orgs")


@pytest.fixture(scope="module")
def admin(token):
    return token("admin", sub="admin-orgs")


def create(client, tok, doc=None):
    r = client.post(O, token=tok, json=doc or organization())
    assert r.status_code == 201, r.text
    return r


def test_create_read_etag_and_location(client, region):
    doc = organization(phone="+7 (843) 200-00-00")
    r = create(client, region, doc)
    body = r.json()
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"{O}/{doc['ogrn']}"
    assert body["id"] == doc["ogrn"] == body["ogrn"] and body["version"] == 1
    assert body["phone"] == "+78432000000" and "state" not in body
    g = client.get(r.headers["Location"], token=region)
    assert g.status_code == 200 and g.headers["ETag"] == '"1"' and g.json() == body


def test_duplicate_ogrn_is_409_with_the_existing_id(client, region):
    doc = organization()
    create(client, region, doc)
    body = assert_problem(client.post(O, token=region, json=organization(doc["ogrn"])), 409,
                          "DUPLICATE_OGRN")
    assert body["existing_id"] == doc["ogrn"]


def test_concurrent_creates_of_one_ogrn_make_one_organisation(client, region):
    doc = organization()

    def post(_):
        return client.post(O, token=region, json=doc).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(post, range(8)))
    assert codes == [201] + [409] * 7
    hist = client.get(f"{O}/{doc['ogrn']}/history", token=region).json()["items"]
    assert [i["version"] for i in hist] == [1]


def test_validation_reports_every_error(client, region):
    doc = organization(inn="7707083894", kpp="7736ab001", type="UNIVERSITY",
                       oktmo="123", status=None, colour="red")
    doc["ogrn"] = doc["ogrn"][:12] + str((int(doc["ogrn"][12]) + 1) % 10)
    body = assert_problem(client.post(O, token=region, json=doc), 422, "VALIDATION")
    got = {(e["pointer"], e["code"]) for e in body["errors"]}
    assert got == {("/inn", "INN_CHECKSUM"), ("/kpp", "FORMAT"), ("/type", "ENUM"),
                   ("/oktmo", "FORMAT"), ("/status", "REQUIRED"), ("/colour", "UNKNOWN_FIELD"),
                   ("/ogrn", "OGRN_CHECKSUM")}


def test_parent_must_exist_and_not_be_itself(client, region):
    parent = ensure_org(new_ogrn())
    doc = organization(parent=new_ogrn())
    body = assert_problem(client.post(O, token=region, json=doc), 422, "VALIDATION")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/parent", "REF_NOT_FOUND")]
    body = assert_problem(client.post(O, token=region, json={**doc, "parent": doc["ogrn"]}), 422)
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/parent", "FORMAT")]
    assert create(client, region, {**doc, "parent": parent}).json()["parent"] == parent
    listed = client.get(O, token=region, params={"parent": parent}).json()["items"]
    assert [o["ogrn"] for o in listed] == [doc["ogrn"]]


@pytest.mark.parametrize("role", ["school", "auditor", "ministry"])
def test_other_roles_read_but_do_not_write(client, region, token, role):
    ogrn = create(client, region).json()["ogrn"]
    tok = token(role, org=ogrn if role == "school" else None)
    assert_problem(client.post(O, token=tok, json=organization()), 403, "FORBIDDEN")
    assert_problem(client.put(f"{O}/{ogrn}", token=tok, json=organization(ogrn)), 403,
                   "FORBIDDEN")
    assert_problem(client.patch(f"{O}/{ogrn}", token=tok, data="{}", headers=MERGE), 403,
                   "FORBIDDEN")
    assert client.get(f"{O}/{ogrn}", token=tok).status_code == 200
    assert client.get(f"{O}/{ogrn}/history", token=tok).status_code == 200
    assert client.get(f"{O}/{ogrn}/versions/1", token=tok).status_code == 200
    assert client.get(O, token=tok).status_code == 200


def test_admin_writes_and_unauthenticated_is_401(client, admin):
    create(client, admin)
    assert_problem(client.get(O), 401, "UNAUTHENTICATED")


def test_put_patch_if_match_history_and_versions(client, region):
    doc = organization()
    url = f"{O}/{doc['ogrn']}"
    create(client, region, doc)
    r = client.patch(url, token=region, data='{"short_name": "Гимназия № 1", "site": "https://g1.ru"}',
                     headers={**MERGE, "If-Match": '"1"', "X-Reason": "%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7"})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"', r.text
    assert r.json()["short_name"] == "Гимназия № 1"
    stale = client.put(url, token=region, json={**doc, "status": "REORGANIZED"},
                       headers={"If-Match": '"1"'})
    assert assert_problem(stale, 412, "VERSION_CONFLICT")["current_version"] == 2
    r = client.put(url, token=region, json={**r.json(), "status": "REORGANIZED"},
                   headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3
    same = client.put(url, token=region, json=r.json())
    assert same.status_code == 200 and same.headers["ETag"] == '"3"'  # nothing written
    # The ОГРН is the id: it cannot change.
    moved = client.patch(url, token=region, data=f'{{"ogrn": "{new_ogrn()}"}}', headers=MERGE)
    body = assert_problem(moved, 422, "VALIDATION")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/ogrn", "FORMAT")]
    page = client.get(url + "/history", token=region, params={"limit": 2}).json()
    assert [i["version"] for i in page["items"]] == [3, 2] and page["next_cursor"] == "1"
    changes = {c["pointer"]: (c["old"], c["new"]) for c in page["items"][1]["changes"]}
    assert changes == {"/short_name": (doc["short_name"], "Гимназия № 1"),
                       "/site": (None, "https://g1.ru")}
    assert page["items"][1]["reason"] == "приказ"
    assert page["items"][0]["changes"] == [{"pointer": "/status", "old": "ACTIVE",
                                            "new": "REORGANIZED"}]
    assert page["items"][0]["principal"]["subject"] == "region-orgs"
    rest = client.get(url + "/history", token=region, params={"cursor": "1"}).json()
    assert [i["version"] for i in rest["items"]] == [1] and rest["next_cursor"] is None
    assert rest["items"][0]["kind"] == "create"
    v1 = client.get(url + "/versions/1", token=region)
    assert v1.status_code == 200 and v1.headers["ETag"] == '"1"'
    assert v1.json()["short_name"] == doc["short_name"] and v1.json()["status"] == "ACTIVE"
    assert_problem(client.get(url + "/versions/4", token=region), 404, "NOT_FOUND")
    assert_problem(client.get(f"{O}/{new_ogrn()}", token=region), 404, "NOT_FOUND")
    assert_problem(client.get(f"{O}/12345", token=region), 404, "NOT_FOUND")
    assert_problem(client.delete(url, token=region), 405)


def test_as_of(client, region):
    doc = organization()
    url = f"{O}/{doc['ogrn']}"
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    create(client, region, doc)
    mid = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".999Z"
    time.sleep(1.1)
    client.patch(url, token=region, data='{"status": "LIQUIDATED"}', headers=MERGE)
    assert client.get(url, token=region).json()["status"] == "LIQUIDATED"
    old = client.get(url, token=region, params={"as_of": mid})
    assert old.status_code == 200 and old.json()["status"] == "ACTIVE" and old.json()["version"] == 1
    assert_problem(client.get(url, token=region, params={"as_of": before}), 404, "NOT_FOUND")
    assert_problem(client.get(url, token=region, params={"as_of": "yesterday"}), 400, "FORMAT")


def test_list_filters_and_cursor(client, region):
    oktmo = f"9{uuid.uuid4().int % 10**10:010d}"  # an ОКТМО of this test alone
    made = [create(client, region, organization(oktmo=oktmo, type=t)).json()["ogrn"]
            for t in ("SCHOOL", "SCHOOL", "KINDERGARTEN")]
    liquidated = create(client, region, organization(oktmo=oktmo, status="LIQUIDATED")).json()
    page = client.get(O, token=region, params={"oktmo": oktmo, "type": "SCHOOL"}).json()
    schools = sorted(made[:2] + [liquidated["ogrn"]])
    assert [o["ogrn"] for o in page["items"]] == schools and page["next_cursor"] is None
    active = client.get(O, token=region,
                        params={"oktmo": oktmo, "status": "ACTIVE", "limit": 2}).json()
    second = client.get(O, token=region, params={"oktmo": oktmo, "status": "ACTIVE", "limit": 2,
                                                  "cursor": active["next_cursor"]}).json()
    got = [o["ogrn"] for o in active["items"] + second["items"]]
    assert got == sorted(made) and len(active["items"]) == 2
    for bad in ({"type": "UNIVERSITY"}, {"oktmo": "12"}, {"status": "x"}, {"parent": "1"},
                {"cursor": "abc"}, {"limit": 0}):
        assert_problem(client.get(O, token=region, params=bad), 400, "FORMAT")


def test_xml_view_is_valid_against_the_xsd(client, region):
    xmlschema = pytest.importorskip("xmlschema")
    doc = organization(parent=None, head_name="Сафина Алия Ринатовна", email="s@edu.ru")
    create(client, region, doc)
    r = client.get(f"{O}/{doc['ogrn']}", token=region, headers={"Accept": "application/xml"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    assert r.headers["ETag"] == '"1"'
    xmlschema.XMLSchema(str(XSD)).validate(io.BytesIO(r.content))
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{NS}}}Organization" and root.get("ogrn") == doc["ogrn"]
    assert root.find(f"{{{NS}}}Inn").text == doc["inn"]
    assert root.find(f"{{{NS}}}License/{{{NS}}}IssuedOn").text == doc["license"]["issued_on"]
    # The view is a package item as it is: sent back, it changes nothing.
    item = r.content.decode().split("?>", 1)[1].strip()
    items = _receipt(client.post(P, token=region, headers={"Content-Type": "application/xml"},
                                 data=_packet([item])))
    assert [(i["result"], i["id"], i["version"]) for i in items] == [
        ("UNCHANGED", doc["ogrn"], "1")]


def test_reads_of_organisations_are_not_access_logged(client, region, token):
    doc = organization()
    create(client, region, doc)
    reader = f"org-reader-{uuid.uuid4().hex[:8]}"
    tok = token("region", sub=reader)
    for path in ("", "/history", "/versions/1"):
        assert client.get(f"{O}/{doc['ogrn']}{path}", token=tok).status_code == 200
    assert client.get(O, token=tok, params={"oktmo": doc["oktmo"]}).status_code == 200
    log = client.get("/api/v1/audit/access", token=token("auditor"),
                     params={"subject": reader})
    assert log.status_code == 200 and log.json()["items"] == []


# --- a student's organisation ------------------------------------------------------------


def test_student_needs_an_existing_active_organisation(client, region):
    missing = new_ogrn()
    body = assert_problem(client.post(S, token=region, json=student(org=missing)), 422,
                          "VALIDATION")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [
        ("/organization", "REF_NOT_FOUND")]
    org = ensure_org(new_ogrn())
    s = client.post(S, token=region, json=student(org=org))
    assert s.status_code == 201, s.text
    s = s.json()
    # Moving the student to an organisation that does not exist is refused too.
    moved = client.patch(f"{S}/{s['id']}", token=region, headers=MERGE,
                         data=f'{{"organization": "{missing}"}}')
    assert assert_problem(moved, 422)["errors"][0]["code"] == "REF_NOT_FOUND"
    # Liquidated: no new students; its existing students may still be changed.
    r = client.patch(f"{O}/{org}", token=region, headers=MERGE, data='{"status": "LIQUIDATED"}')
    assert r.status_code == 200, r.text
    refused = client.post(S, token=region, json=student(org=org))
    assert assert_problem(refused, 422)["errors"][0]["pointer"] == "/organization"
    kept = client.patch(f"{S}/{s['id']}", token=region, headers=MERGE,
                        data='{"birth_place": "г. Елабуга"}')
    assert kept.status_code == 200 and kept.json()["organization"] == org
    school = client.put(f"{S}/{s['id']}", token=region, json={**kept.json(), "organization": missing})
    assert assert_problem(school, 422)["errors"][0]["code"] == "REF_NOT_FOUND"


def _packet(items):
    pid = str(uuid.uuid4())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{pid}</PacketID><SourceSystemID>TEST-ORGS</SourceSystemID>"
            f"<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>")
    return body.encode()


def _org_xml(doc, local_id=None):
    a = doc["addresses"][0]
    lic = doc["license"]
    return (f'<Organization ogrn="{doc["ogrn"]}"' + (f' localId="{local_id}"' if local_id else "")
            + f'><Inn>{doc["inn"]}</Inn><Kpp>{doc["kpp"]}</Kpp>'
            f'<FullName>{doc["full_name"]}</FullName><ShortName>{doc["short_name"]}</ShortName>'
            f'<Type>{doc["type"]}</Type><Oktmo>{doc["oktmo"]}</Oktmo>'
            f'<Addresses><Address kind="{a["kind"]}"><Text>{a["text"]}</Text></Address></Addresses>'
            f'<License><Number>{lic["number"]}</Number><IssuedOn>{lic["issued_on"]}</IssuedOn>'
            f'</License><Status>{doc["status"]}</Status></Organization>')


def _receipt(resp):
    assert resp.status_code == 200, resp.text[:500]
    root = ET.fromstring(resp.content)
    return [dict(i.attrib, errors=[(e.get("code"), e.get("path")) for e in i])
            for i in root.iter(f"{{{NS}}}Item")]


def test_packages_create_organisations_then_their_students(client, region_cert, token):
    from test_packages import student_xml

    doc = organization()
    updated = {**doc, "short_name": "Школа № 2"}
    items = _receipt(client.post(P, cert=region_cert, headers={"Content-Type": "application/xml"},
                                 data=_packet([_org_xml(doc, "o1"),
                                               student_xml(student(org=doc["ogrn"]), "s1"),
                                               student_xml(student(org=new_ogrn()), "s2"),
                                               _org_xml(updated, "o2"),
                                               _org_xml(updated, "o3")])))
    assert [i["result"] for i in items] == ["CREATED", "CREATED", "REJECTED", "UPDATED",
                                            "UNCHANGED"]
    assert items[0]["id"] == doc["ogrn"] and items[0]["version"] == "1"
    assert items[3]["id"] == doc["ogrn"] and items[3]["version"] == "2"
    assert items[2]["errors"] == [("REF_NOT_FOUND", "/Packet/Data/Student[2]/Organization")]
    assert client.get(f"{O}/{doc['ogrn']}", cert=region_cert).json()["short_name"] == "Школа № 2"
    hist = client.get(f"{O}/{doc['ogrn']}/history", cert=region_cert).json()["items"]
    assert hist[0]["source"]["item"] == 4
    # A school may not write the registry: its item is FORBIDDEN, the others stand.
    school = token("school", org=doc["ogrn"])
    other = organization()
    bad = {**organization(), "inn": "7707083894"}
    items = _receipt(client.post(P, token=school, headers={"Content-Type": "application/xml"},
                                 data=_packet([_org_xml(other),
                                               student_xml(student(org=doc["ogrn"]))])))
    assert [i["result"] for i in items] == ["REJECTED", "CREATED"]
    assert items[0]["errors"][0][0] == "FORBIDDEN"
    assert_problem(client.get(f"{O}/{other['ogrn']}", cert=region_cert), 404, "NOT_FOUND")
    items = _receipt(client.post(P, cert=region_cert, headers={"Content-Type": "application/xml"},
                                 data=_packet([_org_xml(bad)])))
    assert items[0]["errors"] == [("INN_CHECKSUM", "/Packet/Data/Organization[1]/Inn")]


def test_verify_covers_organisations(client, region, raw_store):
    doc = organization()
    url = f"{O}/{doc['ogrn']}"
    create(client, region, doc)
    client.patch(url, token=region, headers=MERGE, data='{"short_name": "Другое"}')
    out = run_ctl("verify").stdout
    assert "OK:" in out and " organizations, " in out
    original = raw_store.version("organization", doc["ogrn"], 2)
    assert original["organization_id"] == doc["ogrn"] and "seq" not in original
    restore = raw_store.tamper("organization", doc["ogrn"], 2, "short_name", "Подделка")
    try:
        out = run_ctl("verify", check=False)
        assert out.returncode == 1
        assert f"BROKEN organization {doc['ogrn']} at version 2" in out.stdout
    finally:
        restore()
    assert run_ctl("verify").returncode == 0
