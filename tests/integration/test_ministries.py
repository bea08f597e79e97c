"""The two ministries through nginx (docs/security.md, "The two ministries"): the education
ministry reads and writes what the one ministry did, never the health block; the health
ministry reads students and their health block (with the scope and a purpose) and
health-dimension reports, and writes nothing; tokens that say `ministry` keep working as the
migration says."""

import pytest

from conftest import assert_problem
from kt_data import SCHOOL_A, student
from test_health import PURPOSE, health, marker

S = "/api/v1/students"
REPORT = "/api/v1/reports/contingent"
XML = {"Content-Type": "application/xml"}
PACKET = (b'<?xml version="1.0" encoding="UTF-8"?><Packet xmlns="urn:kontingent:exchange:1">'
          b"<Header><PacketID>6f1c0000-0000-4000-8000-000000000001</PacketID>"
          b"<SourceSystemID>MINZDRAV</SourceSystemID><Timestamp>2026-09-01T10:00:00+03:00"
          b"</Timestamp></Header><Data/></Packet>")


@pytest.fixture(scope="module")
def subject(token):
    """A student with a health block, written by an admin with the scope."""
    from conftest import BASE_URL, Client
    import requests

    s = requests.Session()
    s.verify = False
    admin = Client(BASE_URL, token("admin", scope="health"), session=s)
    r = admin.post(S, json=student(org=SCHOOL_A, health=health(marker())))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("role, scope, becomes", [
    ("ministry", None, "ministry_education"),
    ("ministry", "health", "ministry_health"),
    ("ministry_education", "health", "ministry_education"),
    ("ministry_health", None, "ministry_health"),
])
def test_tokens_resolve_to_the_two_roles(client, token, role, scope, becomes):
    r = client.get("/api/v1/whoami", token=token(role, scope=scope))
    assert r.status_code == 200, r.text
    assert r.json()["role"] == becomes


def test_the_health_ministry_reads_health_and_writes_nothing(client, token, subject):
    for tok in (token("ministry_health", scope="health"), token("ministry", scope="health")):
        r = client.get(f"{S}/{subject['id']}", token=tok, params=PURPOSE)
        assert r.status_code == 200, r.text
        assert "health" in r.json()
        rows = client.get(REPORT, token=tok, params={"group_by": "health_group"})
        assert rows.status_code == 200, rows.text
        doc = student(org=SCHOOL_A)
        assert_problem(client.post(S, token=tok, json=doc), 403, "FORBIDDEN")
        cur = r.json()
        assert_problem(client.put(f"{S}/{subject['id']}", token=tok, json=cur), 403, "FORBIDDEN")
        assert_problem(client.post("/api/v1/packages", token=tok, data=PACKET, headers=XML), 403,
                       "FORBIDDEN")
        # Education data is not its business: the feed, exports, trajectories, grouped reports.
        for path, params in (("/api/v1/changes", {}), ("/api/v1/export", {"organization": SCHOOL_A}),
                             (f"{S}/{subject['id']}/trajectory", {}),
                             ("/api/v1/reports/migration", {})):
            assert_problem(client.get(path, token=tok, params=params), 403, "FORBIDDEN")
        assert_problem(client.get(REPORT, token=tok, params={"group_by": "grade"}), 403,
                       "FORBIDDEN")


def test_the_education_ministry_never_sees_health(client, token, subject):
    for tok in (token("ministry_education", scope="health"), token("ministry")):
        r = client.get(f"{S}/{subject['id']}", token=tok, params=PURPOSE)
        assert r.status_code == 200, r.text
        assert "health" not in r.json()
        assert_problem(client.get(REPORT, token=tok, params={"group_by": "health_group"}), 403,
                       "FORBIDDEN")
        assert client.get(REPORT, token=tok, params={"group_by": "grade"}).status_code == 200
        assert client.get("/api/v1/changes", token=tok).status_code == 200
        # It writes what the one ministry wrote.
        r = client.post(S, token=tok, json=student(org=SCHOOL_A))
        assert r.status_code == 201, r.text
