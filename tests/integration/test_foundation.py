"""The foundation through nginx: statuses, problem+json, authentication, faults, bad input."""

import base64
import json
import os
import signal
import socket
import ssl
import time
import urllib.parse

import pytest

from conftest import BASE_URL, assert_problem, wait_until, issue_token

STUDENTS = "/api/v1/students"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_request(data, timeout=10):
    """Sends raw bytes over TLS to nginx and returns the raw answer (for requests that
    `requests` refuses to build)."""
    u = urllib.parse.urlparse(BASE_URL)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname=u.hostname) as tls:
            tls.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                pass
    return b"".join(chunks)


def status_of(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0


# --- health and routing ------------------------------------------------------------------


def test_health_is_public_and_reports_the_store(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["store"]["ok"] is True
    assert isinstance(body["store"]["latency_ms"], (int, float))
    assert body["version"]
    assert len(r.headers["X-Request-Id"]) >= 16


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_allow(client, token):
    r = client.delete("/api/v1/health")
    body = assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "GET, HEAD"
    r = client.put(STUDENTS, token=token("admin"), json={})
    assert_problem(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_request_id_is_the_same_in_header_body_and_log(client, test_var):
    r = client.get("/api/v1/nothing-here")
    rid = r.headers["X-Request-Id"]
    assert r.json()["request_id"] == rid
    log = (test_var / "log" / "kontingent.log").read_text(errors="replace")
    assert f'"request_id":"{rid}"' in log


# --- authentication ----------------------------------------------------------------------


def test_missing_credentials_is_401_with_www_authenticate(client):
    r = client.get("/api/v1/whoami")
    assert_problem(r, 401, "UNAUTHENTICATED")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_whoami_with_a_token(client, token):
    t = token("school", org="1027700132195", sub="school-1")
    r = client.get("/api/v1/whoami", token=t)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "subject": "school-1",
        "role": "school",
        "organization": "1027700132195",
        "auth_method": "token",
        "scopes": [],
    }


def test_whoami_with_the_region_client_certificate(client, region_cert):
    r = client.get("/api/v1/whoami", cert=region_cert)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "region"
    assert body["auth_method"] == "certificate"
    assert "MUNICIPAL-EDU-07" in body["subject"]


def test_untrusted_client_certificate_is_401(client, untrusted_cert):
    assert_problem(client.get("/api/v1/whoami", cert=untrusted_cert), 401, "UNAUTHENTICATED")


def test_expired_token_is_401(client, token):
    t = token("admin", ttl="1s")
    time.sleep(2.1)
    r = client.get("/api/v1/whoami", token=t)
    assert_problem(r, 401, "UNAUTHENTICATED")
    assert "WWW-Authenticate" in r.headers


def test_forged_token_is_401(client, token):
    header, payload, sig = token("school", org="1027700132195").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{sig}"
    assert_problem(client.get("/api/v1/whoami", token=forged), 401, "UNAUTHENTICATED")


def test_alg_none_is_401(client):
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    payload = b64url(json.dumps({"sub": "x", "role": "admin", "exp": 4102444800}).encode())
    r = client.get("/api/v1/whoami", token=f"{header}.{payload}.")
    assert_problem(r, 401, "UNAUTHENTICATED")


def test_garbage_authorization_is_401(client):
    r = client.get("/api/v1/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(r, 401, "UNAUTHENTICATED")


def test_auditor_may_not_write_403(client, token):
    r = client.post(STUDENTS, token=token("auditor"), json={"last_name": "Иванов"})
    assert_problem(r, 403, "FORBIDDEN")


# --- body checks -------------------------------------------------------------------------


def test_wrong_content_type_is_415(client, token):
    r = client.post(STUDENTS, token=token("region"), data="<x/>",
                    headers={"Content-Type": "application/xml"})
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_malformed_json_is_400(client, token):
    r = client.post(STUDENTS, token=token("region"), data='{"last_name": ',
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "MALFORMED")


def test_body_over_the_route_limit_is_413(client, token):
    big = '{"birth_place": "' + "x" * (2 << 20) + '"}'
    r = client.post(STUDENTS, token=token("region"), data=big,
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "PAYLOAD_TOO_LARGE")


def test_body_over_nginx_limit_is_413_problem(client, token):
    big = b"x" * (12 << 20)
    r = client.post(STUDENTS, token=token("region"), data=big,
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "PAYLOAD_TOO_LARGE")


# --- hostile requests --------------------------------------------------------------------


def test_oversized_headers_are_a_clear_4xx(client):
    r = client.get("/api/v1/health", headers={"X-Big": "a" * 40000})
    assert 400 <= r.status_code < 500
    assert r.headers.get("Content-Type", "").startswith("application/problem+json")
    assert client.get("/api/v1/health").status_code == 200


def test_nul_and_invalid_utf8_in_path_are_400(client):
    for path in ["/api/v1/students/%00abc", "/api/v1/students/%ff%fe", "/api/v1/%c0%af"]:
        r = client.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        assert r.headers.get("Content-Type", "").startswith("application/problem+json"), path
    assert client.get("/api/v1/health").status_code == 200


def test_huge_query_string_is_a_clear_4xx(client, token):
    r = client.get("/api/v1/whoami?" + "a=b&" * 5000, token=token("admin"))
    assert r.status_code in (400, 414), r.status_code
    assert r.headers.get("Content-Type", "").startswith("application/problem+json")
    r = client.get("/api/v1/whoami?q=" + "z" * 100000, token=token("admin"))
    assert 400 <= r.status_code < 500
    assert client.get("/api/v1/health").status_code == 200


def test_truncated_body_does_not_hurt_the_worker(client, token):
    t = token("region")
    host = urllib.parse.urlparse(BASE_URL).netloc
    req = (f"POST {STUDENTS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\n"
           "Content-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n"
           '{"last_name": "Ив').encode()
    raw = raw_request(req, timeout=3)
    assert status_of(raw) in (0, 400, 408), raw[:200]
    assert client.get("/api/v1/health").status_code == 200


def test_invalid_utf8_in_query_is_400(client, token):
    r = client.get("/api/v1/students?snils=%ff%fe", token=token("admin"))
    assert_problem(r, 400, "MALFORMED")


# --- faults ------------------------------------------------------------------------------


def test_a_killed_worker_is_replaced_and_requests_keep_succeeding(client, workers):
    before = workers.pids()
    assert before, "no workers found"
    os.kill(before[0], signal.SIGKILL)
    for _ in range(50):
        assert client.get("/api/v1/health").status_code == 200
    workers.wait(exclude=[before[0]])
    assert before[0] not in workers.pids()


def test_store_down_gives_503_then_recovers_without_restart(client, store, workers):
    pids = set(workers.pids())
    store.stop()
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.json()["store"]["ok"] is False
    store.start()
    wait_until(lambda: client.get("/api/v1/health").status_code == 200, timeout=30,
               what="health to return to 200")
    assert set(workers.pids()) == pids, "workers were restarted"


def test_sighup_replaces_workers_without_failing_requests(client, workers):
    import concurrent.futures
    import threading

    before = set(workers.pids())
    stop = threading.Event()

    def hammer():
        codes = []
        while not stop.is_set():
            codes.append(client.get("/api/v1/health").status_code)
        return codes

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer) for _ in range(4)]
        time.sleep(0.3)
        os.kill(workers.master(), signal.SIGHUP)
        wait_until(lambda: not (set(workers.pids()) & before), timeout=30,
                   what="the old workers to retire")
        time.sleep(0.3)
        stop.set()
        codes = [c for f in futures for c in f.result()]
    assert codes and set(codes) == {200}, {c: codes.count(c) for c in set(codes)}
    workers.wait()
