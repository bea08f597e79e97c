"""docs/openapi.yaml is a valid OpenAPI 3.1 document, its examples keep to its own schemas,
and the live server keeps to it.

The last part is schemathesis: every operation of the document is fuzzed against the stack
(KT_BASE_URL, TLS not verified) with an admin token, positive and negative cases, and every
answer is checked — no 5xx, a documented status, the documented content type, a body that
matches the documented schema, the documented (required) headers. Generation is
derandomised and bounded (MAX_EXAMPLES per operation), so a run is repeatable and takes well
under three minutes on two cores.

Random ids would only ever meet 404, so a few students are created first (one active, one
changed, one deleted) and the fuzzer is steered to them part of the time: path ids, and the
queries of the search and the access log. What the fuzzer then does to them (patches,
deletes) is part of the test.
"""

import json
import os
import pathlib
import re

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import kt_data
from conftest import BASE_URL, TIMEOUT, issue_token

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MAX_EXAMPLES = 40
SEED = 20260901

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def load_spec():
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


# --- the document itself ------------------------------------------------------------------


def test_spec_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_spec_covers_every_route():
    """Every route of fcgi/routes.c is an operation of the document, and nothing else is."""
    routes_c = (SPEC_PATH.parents[1] / "fcgi" / "routes.c").read_text(encoding="utf-8")
    routes = set(re.findall(r'\{"([A-Z]+)", "(/api/[^"]*)"', routes_c))
    spec = load_spec()
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    assert routes, "no routes found in fcgi/routes.c"
    assert documented == routes


def _pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _examples(spec):
    """(where, schema pointer, example value) for every example given beside a schema."""

    def from_holder(holder, *where):
        if "schema" not in holder:
            return
        schema_ptr = _pointer(*where, "schema")
        if "example" in holder:
            yield "/".join(map(str, where)), schema_ptr, holder["example"]
        for name, ex in (holder.get("examples") or {}).items():
            if "$ref" in ex:
                ex = spec["components"]["examples"][ex["$ref"].rsplit("/", 1)[1]]
            yield "/".join(map(str, (*where, name))), schema_ptr, ex["value"]

    def from_response(resp, *where):
        if "$ref" in resp:
            return
        for mt, media in (resp.get("content") or {}).items():
            yield from from_holder(media, *where, "content", mt)

    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                for i, p in enumerate(op):
                    if "$ref" not in p:
                        yield from from_holder(p, "paths", path, method, i)
                continue
            for i, p in enumerate(op.get("parameters", [])):
                if "$ref" not in p:
                    yield from from_holder(p, "paths", path, method, "parameters", i)
            body = op.get("requestBody")
            if body:
                for mt, media in body["content"].items():
                    yield from from_holder(media, "paths", path, method, "requestBody", "content", mt)
            for status, resp in op["responses"].items():
                yield from from_response(resp, "paths", path, method, "responses", status)
    for name, resp in spec["components"]["responses"].items():
        yield from from_response(resp, "components", "responses", name)
    for name, p in spec["components"]["parameters"].items():
        yield from from_holder(p, "components", "parameters", name)


def test_spec_examples_match_their_schemas():
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = load_spec()
    uri = "urn:kontingent:openapi"
    registry = Registry().with_resource(
        uri, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    checked = 0
    failures = []
    for where, schema_ptr, value in _examples(spec):
        validator = jsonschema.Draft202012Validator(
            {"$ref": uri + schema_ptr},
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        failures += [f"{where}: {e.message} at {list(e.path)}" for e in errors]
        checked += 1
    assert checked >= 10
    assert not failures, "\n".join(failures)


# --- the live server ----------------------------------------------------------------------

schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.config.seed = SEED
schema.config.update(base_url=BASE_URL or None, tls_verify=False)
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    # The admin token is sent with every case; schemathesis need not invent Authorization.
    with_security_parameters=False,
)

# Filled by the `seeded` fixture before any case is generated; read by the hooks below.
SEEDED = {"org": None, "writable": None, "paths": {}, "queries": {}}


@schema.hook("flatmap_path_parameters")
def _seeded_paths(context, path_parameters):
    """Half of the time, the path names a student that exists (or existed), and a version of it."""
    seeded = SEEDED["paths"].get(context.operation.label, [])
    if not seeded:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(seeded))


@schema.hook("flatmap_query")
def _seeded_queries(context, query):
    """Half of the time, a search or access-log query that finds something."""
    seeded = SEEDED["queries"].get(context.operation.label, [])
    if not seeded:
        return st.just(query)
    return st.one_of(st.just(query), st.sampled_from(seeded))


def _valid_student(nine, number, org):
    """A student the validator accepts, from numbers Hypothesis drew (so runs repeat)."""
    nine = f"{nine:09d}"
    doc = kt_data.student(org=org, snils=False)
    doc["snils"] = f"{nine}{kt_data.snils_check(nine):02d}"
    doc["documents"][0]["number"] = f"{number:06d}"
    return doc


_PATCHES = [
    {},
    {"birth_place": "г. Набережные Челны"},
    {"middle_name": None, "representatives": None},
    {"citizenship": {"category": "DUAL", "countries": ["643", "398"]}},
    {"addresses": [{"kind": "RESIDENCE", "text": "г. Казань, ул. Пушкина, д. 3", "oktmo": "92701000"}]},
]


@schema.hook("flatmap_body")
def _valid_bodies(context, body):
    """Half of the time, a body the validator accepts, so that writes succeed too."""
    label = context.operation.label
    if SEEDED["org"] is None or label not in (
        "POST /api/v1/students",
        "PUT /api/v1/students/{id}",
        "PATCH /api/v1/students/{id}",
    ):
        return st.just(body)
    if label.startswith("PATCH"):
        valid = st.sampled_from(_PATCHES)
    else:
        valid = st.builds(
            _valid_student,
            st.integers(1_002_000, 999_999_999),
            st.integers(0, 999_999),
            st.just(SEEDED["org"]),
        )
    return st.one_of(st.just(body), valid)


_IF_MATCH = re.compile(r'"[1-9][0-9]{0,17}"')


def _adjust_coverage_case(case):
    """Two adjustments to cases of schemathesis's coverage phase (the deterministic sweep of
    boundary and type-mutation values), so that they test what they are about:

    - It puts only [A-Za-z0-9] into header values, so it cannot make a quoted version and
      seeds every case of PUT, PATCH and DELETE with `If-Match: 0`, which the server refuses
      (400) before it looks at anything else. Unless If-Match is the parameter the case is
      about, the case goes without it.
    - Its PUT and PATCH cases name a student that does not exist, so the server answers 404
      before it reads the body. Unless the id is what the case is about, they name a seeded
      student, and the body sweep reaches the validator.
    """
    meta = case.meta
    if meta is None or meta.phase.name.value != "coverage":
        return
    about = meta.phase.data.parameter
    value = (case.headers or {}).get("If-Match")
    if value is not None and about != "If-Match" and not _IF_MATCH.fullmatch(value):
        del case.headers["If-Match"]
    if case.method in ("PUT", "PATCH") and about != "id" and SEEDED["writable"]:
        case.path_parameters = {**(case.path_parameters or {}), "id": SEEDED["writable"]}


def _create(session, doc, reason="создание для проверки OpenAPI"):
    r = session.post(
        f"{BASE_URL}/api/v1/students",
        json=doc,
        params={"reason": reason},
        timeout=TIMEOUT,
        verify=False,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def admin_token():
    return issue_token("admin")


@pytest.fixture(scope="module")
def api_session(admin_token):
    s = requests.Session()
    s.verify = False
    s.headers["Authorization"] = f"Bearer {admin_token}"
    yield s
    s.close()


@pytest.fixture(scope="module")
def seeded(api_session):
    """An active student, one with two versions, a deleted one; the hooks steer to them."""
    org = kt_data.new_ogrn()
    active = _create(api_session, kt_data.student(org=org))
    changed = _create(api_session, kt_data.student(org=org, snils=False))
    r = api_session.patch(
        f"{BASE_URL}/api/v1/students/{changed['id']}",
        data=json.dumps({"middle_name": None, "birth_place": "г. Елабуга"}),
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"'},
        params={"reason": "исправление"},
        timeout=TIMEOUT,
        verify=False,
    )
    assert r.status_code == 200, r.text
    r_changed = r.json()
    deleted = _create(api_session, kt_data.student(org=org))
    r = api_session.delete(
        f"{BASE_URL}/api/v1/students/{deleted['id']}",
        headers={"X-Reason": "%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7%20%E2%84%96%2045"},
        timeout=TIMEOUT,
        verify=False,
    )
    assert r.status_code == 204, r.text
    doc = active["documents"][0]
    ids = [active["id"], changed["id"], deleted["id"]]
    SEEDED["org"] = org
    SEEDED["named"] = {
        "active": active["id"],
        "changed": changed["id"],
        "deleted": deleted["id"],
        "victim": _create(api_session, kt_data.student(org=org))["id"],
    }
    SEEDED["active_snils"] = active["snils"]
    SEEDED["changed_doc"] = r_changed
    SEEDED["writable"] = changed["id"]
    SEEDED["paths"] = {
        **{
            f"{method} /api/v1/students/{{id}}": [{"id": i} for i in ids]
            for method in ("GET", "PUT", "PATCH", "DELETE")
        },
        "GET /api/v1/students/{id}/history": [{"id": i} for i in ids],
        "GET /api/v1/students/{id}/versions/{n}": [{"id": i, "n": n} for i in ids for n in (1, 2, 3)],
    }
    SEEDED["queries"] = {
        "GET /api/v1/students": [
            {"organization": org},
            {"organization": org, "limit": 1},
            {"snils": active["snils"]},
            {
                "document_type": doc["type"],
                "document_series": doc["series"],
                "document_number": doc["number"],
            },
            {
                "last_name": active["last_name"],
                "first_name": active["first_name"],
                "birth_date": active["birth_date"],
            },
        ],
        "GET /api/v1/students/{id}": [{"as_of": "2000-01-01T00:00:00Z"}, {"as_of": "2999-01-01T00:00:00.5Z"}],
        "GET /api/v1/students/{id}/history": [{"limit": 1}, {"limit": 1, "cursor": "1"}],
        "GET /api/v1/changes": [{"limit": 2}, {"since": 1, "limit": 3}],
        "GET /api/v1/audit/access": [
            {"student": active["id"]},
            {"student": changed["id"], "limit": 1},
            {"subject": "admin-cli", "limit": 5},
        ],
    }
    yield SEEDED
    SEEDED.update(org=None, writable=None, paths={}, queries={})


# --- cases the fuzzer does not make (other roles, certificates, limits) ---------------------


def _scenarios():
    """(id, who, method, path, Case kwargs, expected status). who: None (no credentials),
    a role name, "school:own" / "school:other", "cert", "untrusted-cert". Path templates
    name seeded students as {active}, {changed}, {deleted}."""
    big = {"birth_place": "x" * (1 << 20)}
    authenticated = [
        ("GET", "/api/v1/whoami", {}),
        ("GET", "/api/v1/students", {"query": {"organization": "{org}"}}),
        ("POST", "/api/v1/students", {"body": {}, "media_type": "application/json"}),
        ("GET", "/api/v1/students/{active}", {}),
        ("PUT", "/api/v1/students/{active}", {"body": {}, "media_type": "application/json"}),
        ("PATCH", "/api/v1/students/{active}", {"body": {}, "media_type": "application/merge-patch+json"}),
        ("DELETE", "/api/v1/students/{active}", {"query": {"reason": "x"}}),
        ("GET", "/api/v1/students/{active}/history", {}),
        ("GET", "/api/v1/students/{active}/versions/1", {}),
        ("GET", "/api/v1/changes", {}),
        ("GET", "/api/v1/audit/access", {"query": {"student": "{active}"}}),
    ]
    out = [(f"401 {m} {p}", None, m, p, kw, 401) for m, p, kw in authenticated]
    out += [
        ("whoami with a client certificate", "cert", "GET", "/api/v1/whoami", {}, 200),
        ("read with a client certificate", "cert", "GET", "/api/v1/students/{active}", {}, 200),
        ("untrusted client certificate", "untrusted-cert", "GET", "/api/v1/whoami", {}, 401),
        ("auditor may not write", "auditor", "POST", "/api/v1/students", {"body": "{new}"}, 403),
        ("auditor reads the access log", "auditor", "GET", "/api/v1/audit/access",
         {"query": {"student": "{active}"}}, 200),
        ("school may not read the access log", "school:own", "GET", "/api/v1/audit/access",
         {"query": {"student": "{active}"}}, 403),
        ("school reads its own student", "school:own", "GET", "/api/v1/students/{active}", {}, 200),
        ("school searches its own", "school:own", "GET", "/api/v1/students",
         {"query": {"organization": "{org}"}}, 200),
        ("school follows its feed", "school:own", "GET", "/api/v1/changes", {}, 200),
        ("school whoami", "school:own", "GET", "/api/v1/whoami", {}, 200),
        ("another school's student is 404", "school:other", "GET", "/api/v1/students/{active}", {}, 404),
        ("another school's history is 404", "school:other", "GET", "/api/v1/students/{active}/history",
         {}, 404),
        ("school writes another school's student", "school:other", "POST", "/api/v1/students",
         {"body": "{new}"}, 403),
        ("create", "region", "POST", "/api/v1/students", {"body": "{new}", "query": {"reason": "приказ № 1"}}, 201),
        ("duplicate SNILS", "region", "POST", "/api/v1/students", {"body": "{dup}"}, 409),
        ("validation in English", "region", "POST", "/api/v1/students",
         {"body": {"last_name": "1", "sex": "X"}, "headers": {"Accept-Language": "en"}}, 422),
        ("not JSON", "region", "POST", "/api/v1/students", {"body": "{not-json}"}, 400),
        ("body over 1 MiB", "region", "POST", "/api/v1/students", {"body": big}, 413),
        ("wrong media type", "region", "PATCH", "/api/v1/students/{active}",
         {"body": {}, "media_type": "application/json"}, 415),
        ("stale If-Match", "region", "PUT", "/api/v1/students/{changed}",
         {"body": "{changed-doc}", "headers": {"If-Match": '"1"'}}, 412),
        ("bad If-Match", "region", "DELETE", "/api/v1/students/{active}",
         {"headers": {"If-Match": "W/1"}, "query": {"reason": "x"}}, 400),
        ("reason over 500 characters", "region", "PATCH", "/api/v1/students/{active}",
         {"body": {}, "query": {"reason": "я" * 501}}, 400),
        ("X-Reason not UTF-8", "region", "PATCH", "/api/v1/students/{active}",
         {"body": {}, "headers": {"X-Reason": "%FF"}}, 400),
        ("merge patch", "region", "PATCH", "/api/v1/students/{active}",
         {"body": {"birth_place": "г. Казань, Приволжский район"}, "headers": {"X-Reason": "%D0%B0"}},
         200),
        ("as of a time before the student", "region", "GET", "/api/v1/students/{active}",
         {"query": {"as_of": "2001-01-01T00:00:00Z"}}, 404),
        ("as of now", "region", "GET", "/api/v1/students/{active}",
         {"query": {"as_of": "2999-01-01T00:00:00Z"}}, 200),
        ("read a deleted student", "region", "GET", "/api/v1/students/{deleted}", {}, 410),
        ("delete a deleted student", "region", "DELETE", "/api/v1/students/{deleted}",
         {"query": {"reason": "ещё раз"}}, 410),
        ("replace a deleted student", "region", "PUT", "/api/v1/students/{deleted}",
         {"body": "{new}"}, 410),
        ("history of a deleted student", "region", "GET", "/api/v1/students/{deleted}/history", {}, 200),
        ("the version that deleted", "region", "GET", "/api/v1/students/{deleted}/versions/2", {}, 200),
        ("no such version", "region", "GET", "/api/v1/students/{active}/versions/99", {}, 404),
        ("history page", "region", "GET", "/api/v1/students/{changed}/history",
         {"query": {"limit": 1}}, 200),
        ("an encoded slash in the id", "region", "PUT", "/api/v1/students/{changed}%2Fhistory",
         {"body": {}}, 405),
        ("query over 8192 bytes", "region", "GET", "/api/v1/changes", {"query": {"q": "a" * 9000}}, 414),
        ("more than 64 query parameters", "region", "GET", "/api/v1/changes",
         {"query": {f"p{i}": "1" for i in range(65)}}, 400),
        ("more than 100 headers", "region", "GET", "/api/v1/whoami",
         {"headers": {f"X-Kt-{i}": "1" for i in range(101)}}, 431),
        ("delete", "region", "DELETE", "/api/v1/students/{victim}",
         {"headers": {"If-Match": '"1"', "X-Reason": "%D0%B2%D1%8B%D0%B1%D1%8B%D0%BB"}}, 204),
    ]
    return out


@pytest.fixture(scope="module")
def credentials(seeded):
    """who → (headers, cert) for the scenarios."""
    tls = pathlib.Path(os.environ.get("KT_TEST_VAR", ".")) / "tls"
    other_org = kt_data.new_ogrn()
    return {
        None: ({}, None),
        "region": ({"Authorization": f"Bearer {issue_token('region')}"}, None),
        "auditor": ({"Authorization": f"Bearer {issue_token('auditor')}"}, None),
        "school:own": ({"Authorization": f"Bearer {issue_token('school', org=seeded['org'])}"}, None),
        "school:other": ({"Authorization": f"Bearer {issue_token('school', org=other_org)}"}, None),
        "cert": ({}, (str(tls / "region-client.crt"), str(tls / "region-client.key"))),
        "untrusted-cert": ({}, (str(tls / "untrusted-client.crt"), str(tls / "untrusted-client.key"))),
    }


def _fill(value, seeded):
    """Replaces the {placeholders} of a scenario with seeded values."""
    if isinstance(value, dict):
        return {k: _fill(v, seeded) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    if value == "{new}":
        return kt_data.student(org=seeded["org"])
    if value == "{dup}":
        return {**kt_data.student(org=seeded["org"], snils=False), "snils": seeded["active_snils"]}
    if value == "{changed-doc}":
        return seeded["changed_doc"]
    if value == "{not-json}":
        return '{"last_name": '
    for key in ("active", "changed", "deleted", "victim"):
        value = value.replace("{" + key + "}", seeded["named"][key])
    return value.replace("{org}", seeded["org"])


@pytest.mark.parametrize(
    "who, method, path, kwargs, expected",
    [pytest.param(*s[1:], id=s[0]) for s in _scenarios()],
)
def test_spec_holds_beyond_the_fuzzer(who, method, path, kwargs, expected, seeded, credentials):
    headers, cert = credentials[who]
    if cert is not None:
        if not BASE_URL.startswith("https://"):
            pytest.skip("client certificates need the TLS stack")
        if not all(pathlib.Path(c).exists() for c in cert):
            pytest.skip(f"no {cert[0]}")
    kwargs = dict(kwargs)
    path = _fill(path, seeded)
    query = _fill(kwargs.pop("query", {}), seeded)
    body = _fill(kwargs.pop("body", None), seeded)
    extra_headers = kwargs.pop("headers", {})
    default_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    media_type = kwargs.pop("media_type", default_type if body is not None else None)
    template, params = _template_of(path)
    operation = schema[template][method]
    case_kwargs = {"path_parameters": params, "query": query, "headers": extra_headers}
    if body is not None:
        if isinstance(body, str):
            case_kwargs["body"] = body
            case_kwargs["media_type"] = "text/plain"
        else:
            case_kwargs["body"] = body
            case_kwargs["media_type"] = media_type
    case = operation.Case(**case_kwargs)
    send_headers = dict(headers)
    if isinstance(body, str):
        send_headers["Content-Type"] = media_type or "application/json"
    response = case.call_and_validate(
        base_url=BASE_URL,
        headers=send_headers,
        checks=CHECKS,
        timeout=TIMEOUT,
        verify=False,
        cert=cert,
    )
    assert response.status_code == expected, response.text[:500]


_TEMPLATES = [
    ("/api/v1/students/{id}/versions/{n}", re.compile(r"^/api/v1/students/([^/]+)/versions/([^/]+)$")),
    ("/api/v1/students/{id}/history", re.compile(r"^/api/v1/students/([^/]+)/history$")),
    ("/api/v1/students/{id}", re.compile(r"^/api/v1/students/([^/]+)$")),
]


def _template_of(path):
    """(document path, path parameters) of a concrete path; "%2F" in it is a "/" inside a
    parameter (schemathesis percent-encodes it again when it sends the case)."""
    for template, rx in _TEMPLATES:
        m = rx.match(path)
        if m:
            values = [v.replace("%2F", "/") for v in m.groups()]
            return template, dict(zip(("id", "n"), values))
    return path, {}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_server_keeps_to_the_spec(case, seeded, admin_token, api_session):
    _adjust_coverage_case(case)
    case.call_and_validate(
        base_url=BASE_URL,
        session=api_session,
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=CHECKS,
        timeout=TIMEOUT,
        # Per request: a session's verify=False loses to REQUESTS_CA_BUNDLE in the environment.
        verify=False,
    )
