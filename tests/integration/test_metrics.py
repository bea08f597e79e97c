"""Observability through nginx: GET /metrics parsed by Prometheus' own text parser
(prometheus_client), its counters moving with the requests, the store operations and
access-log failures, no personal data in it, only the loopback may read it; liveness and
readiness (docs/operations.md, "Metrics" and "Health checks")."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import WORKERS, ensure_org, issue_token, wait_until
from kt_data import new_ogrn, student

ORG = new_ogrn()
MISSING = "/api/v1/students/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module", autouse=True)
def school():
    ensure_org(ORG)


def scrape(client):
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return r.text


def samples(text):
    """{(name, frozenset(labels)): value} of every sample in the exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0.0)


ROUTE = {"method": "GET", "route": "/api/v1/students/{id}"}


def test_metrics_parse_and_count_requests_by_route_status_and_latency(client):
    admin = issue_token("admin")
    before = samples(scrape(client))
    for _ in range(3):
        assert client.get(MISSING, token=admin).status_code == 404
    after = samples(scrape(client))
    req = "kontingent_http_requests_total"
    assert value(after, req, **ROUTE, status="404") - value(before, req, **ROUTE, status="404") == 3
    hist = "kontingent_http_request_duration_seconds_count"
    assert value(after, hist, **ROUTE) - value(before, hist, **ROUTE) == 3
    inf = value(after, "kontingent_http_request_duration_seconds_bucket", **ROUTE, le="+Inf")
    assert inf == value(after, hist, **ROUTE)
    # Each of the three read the store at least once.
    ops = "kontingent_store_operations_total"
    assert value(after, ops) - value(before, ops) >= 3
    # The first scrape is counted by the second: its route and 200.
    assert value(after, req, method="GET", route="/metrics", status="200") >= 1


def test_metrics_count_requests_that_match_no_route(client):
    before = samples(scrape(client))
    assert client.get("/api/v1/no-such-thing").status_code == 404
    after = samples(scrape(client))
    name = "kontingent_http_requests_total"
    labels = {"method": "", "route": "unmatched", "status": "404"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


def test_metrics_workers_and_queue(client):
    found = samples(scrape(client))
    wait_until(lambda: value(samples(scrape(client)), "kontingent_workers_alive") >= WORKERS,
               what="the master to report its workers")
    assert value(found, "kontingent_workers_configured") == WORKERS
    assert value(found, "kontingent_queue_up") == 1
    assert ("kontingent_queue_packages", frozenset()) in found
    assert ("kontingent_queue_oldest_age_seconds", frozenset()) in found


def test_metrics_hold_no_personal_data(client):
    admin = issue_token("admin")
    doc = student(org=ORG)
    r = client.post("/api/v1/students", json=doc, token=admin)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert client.get(f"/api/v1/students/{sid}", token=admin).status_code == 200
    text = scrape(client)
    for secret in (sid, doc["snils"], doc["last_name"], doc["documents"][0]["number"], ORG,
                   "admin-cli"):
        assert secret not in text


@pytest.mark.store("sqlite", reason="needs a store that reads but cannot write (SQLite's lock "
                   "held); a stopped FerretDB fails the read before its access-log entry")
def test_metrics_count_access_log_write_failures(client, store):
    """A read of personal data whose access-log entry cannot be written is refused (503)
    and counted; the scrape itself needs no write."""
    admin = issue_token("admin")
    r = client.post("/api/v1/students", json=student(org=ORG), token=admin)
    assert r.status_code == 201, r.text
    before = samples(scrape(client))
    store.stop()
    assert client.get(f"/api/v1/students/{r.json()['id']}", token=admin).status_code == 503
    store.start()
    after = samples(scrape(client))
    name = "kontingent_access_log_write_failures_total"
    assert value(after, name) - value(before, name) == 1
    errors = "kontingent_store_errors_total"
    assert value(after, errors, code="STORE_UNAVAILABLE") > value(before, errors,
                                                                 code="STORE_UNAVAILABLE")


def test_metrics_internal_location_is_not_reachable(client):
    """Only /metrics leads to the metrics, and only from the loopback (nginx): the internal
    location it is rewritten to answers 404 when asked for directly."""
    assert client.get("/api/_kt/metrics").status_code == 404


def test_live_and_ready(client):
    live = client.get("/api/v1/health/live")
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["store"] == "ok"
    assert body["workers"]["configured"] == WORKERS


def test_ready_fails_while_the_store_is_down_and_live_does_not(client, store):
    store.stop()
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "5"
    assert ready.json()["status"] == "unavailable"
    assert client.get("/api/v1/health/live").status_code == 200
    store.start()
    wait_until(lambda: client.get("/api/v1/health/ready").status_code == 200, timeout=30,
               what="readiness to return")
