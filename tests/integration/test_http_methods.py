"""HEAD wherever GET works (RFC 9110 §9.3.2): the same status and headers as GET, no body;
Allow names HEAD beside GET on a 405, and every 405 has Allow (TRACE too, which nginx answers
before any location). /api/v1/openapi.json serves the document. Headers that carry text are
percent-encoded ASCII."""

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


API_PATHS = ["/api/v1/health", "/api/v1/whoami", "/api/v1/students", "/api/v1/changes",
             "/api/v1/openapi.json", f"/api/v1/organizations/{ORG}"]


@pytest.mark.parametrize("path", API_PATHS)
def test_trace_names_what_the_path_allows(client, token, path):
    """nginx refuses TRACE before it looks for a location; under /api/ the workers answer it,
    so that Allow names what the path takes, as for any other method it does not."""
    tok = token("admin")
    r = client.request("TRACE", path, token=tok)
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    other = client.request("DELETE", path, token=tok)  # no route deletes these paths
    assert other.status_code == 405
    assert r.headers["Allow"] == other.headers["Allow"]
    assert "GET, HEAD" in r.headers["Allow"]


def test_trace_of_an_unknown_api_path_is_404(client):
    assert_problem(client.request("TRACE", "/api/v1/no-such-thing"), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["TRACE", "POST", "DELETE"])
def test_console_files_allow_get_and_head(client, method):
    r = client.request(method, "/index.html")
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "GET, HEAD"


def test_openapi_json_is_the_document_and_public(client):
    """/api/v1/openapi.json: docs/openapi.yaml as JSON, without credentials, HEAD too."""
    import json
    import pathlib

    import yaml

    spec = yaml.safe_load(
        (pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text("utf-8"))
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert json.loads(r.content) == json.loads(json.dumps(spec, default=str))
    etag = r.headers["ETag"]
    head = client.head("/api/v1/openapi.json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == etag
    assert head.headers["Content-Length"] == r.headers["Content-Length"]


RAW_UTF8 = "медицинское сопровождение".encode()


def test_text_headers_are_percent_encoded_ascii(client, token):
    """X-Purpose and X-Reason carry percent-encoded UTF-8 (the document's pattern): raw bytes
    beyond ASCII are refused, from every principal, not decoded by guess."""
    tok = token("admin")  # without the health scope: a purpose is not needed, but checked
    r = client.post("/api/v1/students", token=tok, json=student(org=ORG))
    assert r.status_code == 201, r.text
    url = f"/api/v1/students/{r.json()['id']}"
    bad = client.get(url, token=tok, headers={"X-Purpose": RAW_UTF8})
    assert_problem(bad, 400, "FORMAT")
    assert bad.json()["errors"][0]["pointer"] == "/purpose"
    assert client.get(url, token=tok, headers={"X-Purpose": "%D0%B0"}).status_code == 200
    assert_problem(client.get(url, token=tok, params={"purpose": "a\u0001"}), 400, "FORMAT")
    assert_problem(client.delete(url, token=tok, headers={"X-Reason": RAW_UTF8}), 400, "FORMAT")
    assert client.delete(url, token=tok, headers={"X-Reason": "%D0%B0"}).status_code == 204
