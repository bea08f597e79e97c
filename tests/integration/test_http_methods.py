"""HEAD wherever GET works (RFC 9110 §9.3.2): the same status and headers as GET, no body;
Allow names HEAD beside GET on a 405."""

import pytest

from conftest import assert_problem, ensure_org
from kt_data import new_ogrn, student

ORG = new_ogrn()


@pytest.fixture(scope="module", autouse=True)
def school():
    ensure_org(ORG)


def test_head_of_public_and_authenticated_routes(client, token):
    r = client.head("/api/v1/health")
    assert r.status_code == 200 and r.content == b""
    tok = token("admin")
    r = client.post("/api/v1/students", token=tok, json=student(org=ORG))
    assert r.status_code == 201, r.text
    url = f"/api/v1/students/{r.json()['id']}"
    for path in (url, f"{url}/history", f"{url}/versions/1", "/api/v1/whoami",
                 f"/api/v1/organizations/{ORG}"):
        got, head = client.get(path, token=tok), client.head(path, token=tok)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        assert head.content == b"", path
        assert head.headers.get("ETag") == got.headers.get("ETag"), path
        assert head.headers["Content-Type"] == got.headers["Content-Type"], path
    # Without credentials HEAD is refused like GET (no body to carry the problem).
    assert client.head(url).status_code == 401


def test_405_allows_head_where_get_is(client, token):
    r = client.request("PUT", "/api/v1/students", token=token("admin"), json={})
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "GET, HEAD, POST"
