"""Reports and the as_of export: what the versions said was true at a time."""

import time
import xml.etree.ElementTree as ET

from conftest import assert_problem
from kt_data import new_ogrn, student

NS = "urn:kontingent:exchange:1"


def exported_ids(client, cert, org, as_of=None):
    params = {"organization": org} | ({"as_of": as_of} if as_of else {})
    r = client.get("/api/v1/export", cert=cert, params=params)
    assert r.status_code == 200, r.text[:300]
    return {s.get("id") for s in ET.fromstring(r.content).find(f"{{{NS}}}Data")}


def test_export_as_of_finds_students_who_left_since(client, region_cert):
    org, other = new_ogrn(), new_ogrn()
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
