"""docs/openapi.yaml: a valid OpenAPI 3.1 document, true to fcgi/routes.c and to its own
examples, and a contract the live server keeps.

The document is read by a YAML loader that refuses duplicate keys and validated by
openapi-spec-validator. The live part checks every answer with every check schemathesis 4.x
has — no 5xx, a documented status, content type, body schema and headers; schema-violating
requests refused and schema-valid ones accepted; a missing required header refused; an
undocumented method answered 405 with Allow; a deleted resource gone; a created one readable;
a request without credentials refused — plus problem_conformance (a problem+json body's status
and code are those its response documents in `x-problem`). Some refusals of schema-valid
requests are rules OpenAPI cannot state: _refusal_reason names each, and docs/api.md ("What the
document cannot say") lists them. In three ways:

- test_spec_holds_beyond_the_fuzzer: fixed requests the fuzzer does not make (no
  credentials, other roles, a client certificate, limits, a deleted student, an encoded
  "/" in an id), each with its expected status;
- test_server_keeps_to_the_spec: schemathesis fuzzes every operation with an admin token,
  positive and negative cases (its examples, coverage and fuzzing phases), derandomised and
  bounded (MAX_EXAMPLES per operation: 10 in CI, 40 with KT_TEST_FULL=1 or
  KT_OPENAPI_EXAMPLES), so that a run is repeatable and bounded in time;
- test_stateful_sequences_keep_to_the_spec: the stateful phase, sequences of calls chained by
  the links schemathesis infers (STATEFUL_EXAMPLES sequences of at most STATEFUL_STEPS).

Random ids would only ever meet 404, so a few students are created first (one active, one
with two versions, one deleted) and the fuzzer is steered to them half of the time (path
ids, the queries of the search and the access log) and to valid bodies half of the time
(writes that succeed). What the fuzzer then does to them is part of the test.

Needs schemathesis and openapi-spec-validator (tests/integration/requirements.txt); without
them the module is skipped rather than breaking the collection of the others.
"""

import itertools
import json
import os
import pathlib
import re

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("openapi_spec_validator")
yaml = pytest.importorskip("yaml")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import Failure  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

import kt_data  # noqa: E402
from conftest import BASE_URL, TIMEOUT, issue_token, new_org  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "docs" / "openapi.yaml"
MAX_EXAMPLES = kt_data.size("KT_OPENAPI_EXAMPLES", 10, 40)
SEED = 20260901



def _search_group(query):
    """The search GET /api/v1/students does for this query, or None (its description)."""
    q = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    if "snils" in q:
        return "snils"
    if "document_type" in q and "document_number" in q:
        return "document"
    if all(k in q for k in ("last_name", "first_name", "birth_date")):
        return "name"
    return "organization" if "organization" in q else None


def _stated(case, query_name, header_name):
    query = (case.query or {}).get(query_name)
    header = {k.lower(): v for k, v in (case.headers or {}).items()}.get(header_name.lower())
    return any(isinstance(v, str) and v.strip(" \t") for v in (query, header))


def _catalogue():
    """English format → Russian format, from core/msg_catalogue.c: answers come in the
    language Accept-Language picks, and schemathesis sends any Accept-Language."""
    src = (REPO / "core" / "msg_catalogue.c").read_text(encoding="utf-8")
    string = r'"(?:[^"\\\n]|\\.)*"'
    pair = re.compile(r"\{\s*((?:" + string + r"\s*)+),\s*((?:" + string + r"\s*)+)\}")
    join = lambda text: "".join(json.loads(x) for x in re.findall(string, text))  # noqa: E731
    return {join(en): join(ru) for en, ru in pair.findall(src)}


_CATALOGUE = _catalogue()


def _says(detail, english, where="start"):
    """Whether detail is the catalogue's text english (a format) in either language, compared
    at its start (the text before its first conversion) or its end (after its last)."""
    for text in (english, _CATALOGUE.get(english, english)):
        part = text.split("%")[0] if where == "start" else text.split("%s")[-1]
        if part and (detail.startswith(part) if where == "start" else detail.endswith(part)):
            return True
    return False


def _refusal_reason(case, response):
    """Why the server refuses a request the document's schemas allow, when that is one of the
    rules JSON Schema cannot state (each is written in the operation's description or in
    docs/api.md, "What the document cannot say"); None when it is none of them — a failure."""
    try:
        body = response.json()
    except ValueError:
        return None
    code, detail, status = body.get("code"), body.get("detail", ""), response.status_code
    label, query = case.operation.label, case.query or {}
    if_match = {k.lower(): v for k, v in (case.headers or {}).items()}.get("if-match")
    rules = [
        (label == "GET /api/v1/students" and status == 400 and code == "FORMAT"
         and _search_group(query) is None,
         "a search needs one complete group of parameters: OpenAPI has no 'one of these "
         "groups of query parameters'"),
        (label == "DELETE /api/v1/students/{id}" and status == 422 and code == "REQUIRED"
         and not _stated(case, "reason", "X-Reason"),
         "a delete needs a reason, as `reason` or `X-Reason`: OpenAPI has no 'one of two "
         "parameters'"),
        (label == "GET /api/v1/audit/access" and status == 400 and code == "FORMAT"
         and not (query.get("student") or query.get("subject")),
         "the access log is read by student, by subject or both: OpenAPI has no 'one of two "
         "parameters'"),
        (status == 400 and code == "FORMAT" and "cursor" in query and "cursor" in detail,
         "a cursor is a next_cursor the server gave, not any string of its shape"),
        (status == 400 and code == "FORMAT" and (_says(detail, "from must not be later than to") or _says(detail, "from must not be after to")),
         "from ≤ to: JSON Schema cannot compare two parameters"),
        (status == 400 and code == "MALFORMED" and if_match is not None
         and not _IF_MATCH.fullmatch(str(if_match)),
         "schemathesis's coverage phase writes header values of [A-Za-z0-9] only and cannot "
         "make the quoted version If-Match's pattern asks for"),
        (status == 400 and code == "REQUIRED" and _says(detail, "a change of last_name, first_name, birth_date or sex needs a reason (?reason= or X-Reason)")
         and not _stated(case, "reason", "X-Reason"),
         "changing identity fields (names, birth date, sex) needs a reason: a rule between "
         "the body and the stored record"),
        (status == 400 and code == "FORMAT" and _says(detail, next(k for k in _CATALOGUE if k.startswith("reason must be percent")))
         and not (query.get("reason") or "").strip() and _stated(case, "reason", "X-Reason"),
         "X-Reason's pattern says which bytes go on the wire, not what they decode to: "
         "decoded, it must be UTF-8 text without control characters"),
        (status == 400 and code == "FORMAT" and _says(detail, next(k for k in _CATALOGUE if k.startswith("the purpose of a read")))
         and not (query.get("purpose") or "").strip() and _stated(case, "purpose", "X-Purpose"),
         "X-Purpose's pattern says which bytes go on the wire, not what they decode to: "
         "decoded, it must be UTF-8 text without control characters"),
        (status == 400 and code == "FORMAT" and _says(detail, "%s: not a valid value", "end"),
         "a query's ОГРН or СНИЛС has a check digit: JSON Schema cannot compute it"),
        (status == 400 and code == "FORMAT" and _says(detail, "group_by names %s twice"),
         "group_by names each dimension at most once: a pattern cannot say it"),
        (status == 400 and code == "MALFORMED" and "\\u0000 is not allowed" in detail,
         "the JSON parser refuses U+0000 in every string (docs/api.md, Limits), also in "
         "members whose schema does not type them"),
        (status == 412 and code == "VERSION_CONFLICT",
         "If-Match must name the current version, which only the store knows"),
        (status == 410 and code == "FEED_EPOCH_CHANGED",
         "since must be a cursor of the store's feed epoch (after a restore), which only the "
         "store knows"),
        (label in ("POST /api/v1/students/{id}/merge", "POST /api/v1/students/{id}/unmerge")
         and code in ("REQUIRED", "MERGE_SELF", "MERGE_CONFLICT", "MERGE_STATE", "ALREADY_MERGED",
                      "NOT_MERGED", "UNMERGE_CONFLICT", "REF_NOT_FOUND"),
         "a merge's rules are between two stored records: the duplicate is another existing "
         "student, the fields where they differ are resolved; its reason comes as `reason` or "
         "`X-Reason` (docs/api.md, Merge and unmerge)"),
        (status == 400 and code == "FORMAT"
         and (_says(detail, "organization must be an OGRN")
              or _says(detail, "organization: not a valid OGRN"))
         and re.fullmatch(r"[0-9]{13}", str(query.get("organization", ""))),
         "an ОГРН has a check digit: JSON Schema cannot compute it"),
        (label == "GET /api/v1/duplicates" and status == 400 and code == "FORMAT"
         and query.get("organization") and query.get("municipality"),
         "organization and municipality, one filter at a time: OpenAPI has no 'at most one of "
         "two parameters'"),
        (label == "POST /api/v1/duplicates/{pair}/dismiss" and status == 422
         and code == "REQUIRED" and not _stated(case, "reason", "X-Reason"),
         "a dismissal needs a reason, as `reason` or `X-Reason`: OpenAPI has no 'one of two "
         "parameters'"),
        (label == "GET /api/v1/reports/progress" and status == 400 and code == "FORMAT"
         and _says(detail, "year must be an academic year, YYYY-YYYY (2026-2027)"),
         "an academic year is two consecutive years: a pattern cannot add one to a number"),
        (status == 412 and code == "FEED_EPOCH_CHANGED",
         "If-Match must name the store's feed epoch (after a restore), which only the store "
         "knows"),
        (status == 410 and code == "GONE", "the student was deleted: state, not shape"),
        (status == 422 and code in ("VALIDATION", "EPISODE_OPEN", "NO_OPEN_EPISODE",
                                    "EPISODE_STATE", "REF_NOT_FOUND", "READ_ONLY"),
         "the model's rules beyond JSON Schema: checksums (СНИЛС, ОГРН, ИНН), references to "
         "existing active organisations, dates against today and the birth date, the "
         "education events' order (docs/data-model.md, docs/enrolment.md)"),
    ]
    return next((why for holds, why in rules if holds), None)


def positive_data_acceptance_but_documented_rules(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for the refusals _refusal_reason names."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        if _refusal_reason(case, response) is None:
            raise
        return None


# The bodies the hooks below put in place of generated ones (as canonical JSON): a negative
# case whose body is one of them is not negative any more.
_STEERED_BODIES = set()


def _steered(body):
    _STEERED_BODIES.add(json.dumps(body, sort_keys=True))
    return body


def _problem_code(response):
    try:
        return response.json().get("code")
    except ValueError:
        return None


def negative_data_rejection_of_what_was_sent(ctx, response, case):
    """schemathesis's negative_data_rejection, but not for a negative case about its body whose
    body the hooks replaced with a valid one (steering half of the cases to writes that
    succeed): what was sent is not the invalid body the case's metadata describes."""
    try:
        return negative_data_rejection(ctx, response, case)
    except Failure as failure:
        if response.status_code == 410:
            return None  # a deleted student is gone before its body is read: state first
        if response.status_code == 412 and _problem_code(response) == "FEED_EPOCH_CHANGED":
            return None  # If-Match of another feed epoch is refused before the body is read
        body = case.body if isinstance(case.body, (dict, list)) else None
        # A steered body is valid: the case's invalid components then name a body that was
        # not sent (and, beside it, at most query members the server ignores).
        if body is None or json.dumps(body, sort_keys=True) not in _STEERED_BODIES:
            raise
        return None


def _problem_media(case, status):
    """The documented problem+json media object of this operation's status, or None."""
    spec = _SPEC()
    op = spec["paths"][case.operation.path].get(case.method.lower())
    if op is None:  # a method the path does not take (unsupported_method's probes): 405
        op = next(o for m, o in spec["paths"][case.operation.path].items() if m != "parameters")
    resp = op["responses"].get(str(status)) or op["responses"].get("default")
    if resp is None:
        return None
    if "$ref" in resp:
        resp = spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    return (resp.get("content") or {}).get("application/problem+json")


def problem_conformance(ctx, response, case):
    """A problem+json body says the status it was sent with, one of the codes its response
    lists (`x-problem.codes`: the document keeps per-response codes out of the schema, where
    generators could not merge them) and the members it requires (`x-problem.required`)."""
    if not response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        return None
    body = response.json()
    assert body.get("status") == response.status_code, (
        f"problem status {body.get('status')} sent as {response.status_code}")
    media = _problem_media(case, response.status_code)
    if media is None or body.get("type") == "about:blank":
        return None  # nginx's own errors have no extension members (Problem's description)
    rules = media.get("x-problem") or {}
    codes = rules.get("codes")
    assert codes is None or body.get("code") in codes, (
        f"code {body.get('code')} is not one of {codes} for {response.status_code}")
    missing = [m for m in rules.get("required", []) if m not in body]
    assert not missing, f"problem {body.get('code')} lacks {missing}"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection_of_what_was_sent,
    positive_data_acceptance_but_documented_rules,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    use_after_free,
    ensure_resource_availability,
    ignored_auth,
    problem_conformance,
]


class StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (strict generators such as
    openapi-python-client do; PyYAML would keep the last one silently)."""


def _unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_spec():
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=StrictLoader)  # noqa: S506 (a SafeLoader)


_loaded = []


def _SPEC():  # noqa: N802 (a constant, loaded once)
    if not _loaded:
        _loaded.append(load_spec())
    return _loaded[0]


# --- the document itself ------------------------------------------------------------------


def test_spec_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_spec_names_each_schema_once_and_in_its_place():
    """Two schemas named Health once made Student.health resolve to the service's /health
    answer, and an achievement's rules landed inside the health block."""
    schemas = load_spec()["components"]["schemas"]
    assert "health" in schemas["Student"]["properties"]
    assert "health" not in schemas["Achievement"]["properties"]
    assert "allOf" in schemas["Achievement"] and "allOf" not in schemas["Health"]
    assert "legal_basis" in schemas["Health"]["properties"]
    assert "store" in schemas["ServiceHealth"]["properties"]
    url = schemas["Achievement"]["properties"]["document"]["properties"]["url"]
    assert url.get("maxLength") == 2000 and "pattern" in url


# Routes of fcgi/routes.c that are not part of the JSON API this document describes: the XML
# exchange of regional systems (its contract is xsd/ and the receipts it defines).
# The XML exchange (docs/xml-exchange.md, xsd/) is described by the XSD, not by OpenAPI.
NOT_JSON_API = {("POST", "/api/v1/packages"), ("GET", "/api/v1/packages/{id}"),
                ("GET", "/api/v1/export")}


def test_spec_covers_every_route():
    """Every route of fcgi/routes.c is an operation of the document (but the XML exchange's),
    and nothing else is."""
    routes_c = (REPO / "fcgi" / "routes.c").read_text(encoding="utf-8")
    rows = re.findall(r'\.method = "([A-Z]+)", \.pattern = "(/[^"]*)"', routes_c)
    routes = set(rows) - NOT_JSON_API
    documented = {
        (method.upper(), path)
        for path, item in load_spec()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    assert routes, "no routes found in fcgi/routes.c"
    assert documented == routes


def _pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _examples(spec):
    """(where, pointer to the schema, example) for every example given beside a schema."""

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
            for mt, media in (op.get("requestBody") or {}).get("content", {}).items():
                yield from from_holder(media, "paths", path, method, "requestBody", "content", mt)
            for status, resp in op["responses"].items():
                if "$ref" not in resp:
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
    checked, failures = 0, []
    for where, schema_ptr, value in _examples(spec):
        validator = jsonschema.Draft202012Validator(
            {"$ref": uri + schema_ptr},
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        failures += [
            f"{where}: {e.message} at {list(e.path)}" for e in validator.iter_errors(value)
        ]
        checked += 1
    assert checked >= 20
    assert not failures, "\n".join(failures)


# --- the live server: the schema under test and the seeded students --------------------------

schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.config.seed = SEED
schema.config.update(base_url=BASE_URL or None, tls_verify=False)
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    # The admin token goes with every case; schemathesis need not invent an Authorization.
    with_security_parameters=False,
)

# Filled by the `seeded` fixture before any case is generated; read by the hooks below.
SEEDED = {"org": None, "fuzz_org": None, "named": {}, "paths": {}, "queries": {}}


def _send(session, method, path, **kwargs):
    # verify per request: a session's verify=False loses to REQUESTS_CA_BUNDLE.
    return session.request(method, BASE_URL + path, timeout=TIMEOUT, verify=False, **kwargs)


def _create(session, doc, reason="создание для проверки OpenAPI"):
    r = _send(session, "POST", "/api/v1/students", json=doc, params={"reason": reason})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def admin_token():
    return issue_token("admin")


@pytest.fixture(scope="module")
def api_session(admin_token):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {admin_token}"
    yield s
    s.close()


@pytest.fixture(scope="module")
def seeded(api_session):
    """Students of a fresh school: active, changed (two versions), deleted, and a victim for
    the delete scenario."""
    org = new_org()
    active = _create(api_session, kt_data.student(org=org))
    changed = _create(api_session, kt_data.student(org=org, snils=False))
    r = _send(
        api_session,
        "PATCH",
        f"/api/v1/students/{changed['id']}",
        data=json.dumps({"middle_name": None, "birth_place": "г. Елабуга"}),
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"'},
        params={"reason": "исправление"},
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    deleted = _create(api_session, kt_data.student(org=org))
    r = _send(
        api_session,
        "DELETE",
        f"/api/v1/students/{deleted['id']}",
        headers={"X-Reason": "%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7%20%E2%84%96%2045"},
    )
    assert r.status_code == 204, r.text
    victim = _create(api_session, kt_data.student(org=org))

    # An organisation of the fuzzer's own, so that what it writes to it (PUT, PATCH) cannot
    # touch the students' organisation.
    fuzz_org = new_org()
    ids = [active["id"], changed["id"], deleted["id"]]
    doc = active["documents"][0]
    SEEDED["org"] = org
    SEEDED["fuzz_org"] = fuzz_org
    SEEDED["named"] = {
        "active": active["id"],
        "changed": changed["id"],
        "deleted": deleted["id"],
        "victim": victim["id"],
    }
    SEEDED["active"], SEEDED["changed"] = active, changed
    SEEDED["paths"] = {
        **{
            f"{method} /api/v1/students/{{id}}": [{"id": i} for i in ids]
            for method in ("GET", "PUT", "PATCH", "DELETE")
        },
        "GET /api/v1/students/{id}/history": [{"id": i} for i in ids],
        "POST /api/v1/students/{id}/events": [{"id": i} for i in ids],
        "GET /api/v1/students/{id}/trajectory": [{"id": i} for i in ids],
        "GET /api/v1/students/{id}/verify": [{"id": i} for i in ids],
        "GET /api/v1/students/{id}/versions/{n}": [
            {"id": i, "n": n} for i in ids for n in (1, 2, 3)
        ],
        **{
            f"{method} /api/v1/organizations/{{ogrn}}": [{"ogrn": fuzz_org}]
            for method in ("GET", "PUT", "PATCH")
        },
        "GET /api/v1/organizations/{ogrn}/history": [{"ogrn": fuzz_org}],
        "GET /api/v1/organizations/{ogrn}/versions/{n}": [{"ogrn": fuzz_org, "n": 1}],
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
        "GET /api/v1/students/{id}": [
            {"as_of": "2000-01-01T00:00:00Z"},
            {"as_of": "2999-01-01T00:00:00.5Z"},
        ],
        "GET /api/v1/students/{id}/history": [{"limit": 1}, {"limit": 1, "cursor": "1"}],
        "GET /api/v1/changes": [{"limit": 2}, {"since": 1, "limit": 3}],
        "GET /api/v1/organizations": [
            {"oktmo": "92701000", "type": "SCHOOL", "limit": 2},
            {"status": "ACTIVE", "cursor": fuzz_org},
        ],
        "GET /api/v1/audit/access": [
            {"student": active["id"]},
            {"student": changed["id"], "limit": 1},
            {"subject": "admin-cli", "limit": 5},
            {"student": changed["id"], "subject": "admin-cli", "from": "2026-01-01T00:00:00Z"},
        ],
        "GET /api/v1/audit/changes": [
            {"subject": "admin-cli"},
            {"subject": "admin-cli", "limit": 1},
            {"subject": "admin-cli", "from": "2026-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"},
        ],
    }
    yield SEEDED
    SEEDED.update(org=None, fuzz_org=None, named={}, paths={}, queries={})


# --- fixed requests the fuzzer does not make ------------------------------------------------

_AUTHENTICATED = [
    ("GET", "/api/v1/whoami", {}),
    ("GET", "/api/v1/students", {"query": {"organization": "{org}"}}),
    ("POST", "/api/v1/students", {"body": {}}),
    ("GET", "/api/v1/students/{active}", {}),
    ("PUT", "/api/v1/students/{active}", {"body": {}}),
    ("PATCH", "/api/v1/students/{active}", {"body": {}}),
    ("DELETE", "/api/v1/students/{active}", {"query": {"reason": "x"}}),
    ("GET", "/api/v1/students/{active}/history", {}),
    ("POST", "/api/v1/students/{active}/events", {"body": {}}),
    ("GET", "/api/v1/students/{active}/trajectory", {}),
    ("GET", "/api/v1/students/{active}/versions/1", {}),
    ("GET", "/api/v1/changes", {}),
    ("GET", "/api/v1/audit/access", {"query": {"student": "{active}"}}),
    ("GET", "/api/v1/audit/changes", {"query": {"subject": "admin-cli"}}),
    ("GET", "/api/v1/audit/verify/last", {}),
    ("GET", "/api/v1/students/{active}/verify", {}),
]

S = "/api/v1/students"
O = "/api/v1/organizations"
_X_REASON = "%D0%B2%D1%8B%D0%B1%D1%8B%D0%BB"  # «выбыл»

# (id, who, method, path, request, expected status). who: None (no credentials), a role,
# "school:own" / "school:other", "cert", "untrusted-cert". {active}, {changed}, {deleted},
# {victim}, {org} name seeded things; bodies "{new}", "{dup}", "{changed-doc}", "{not-json}"
# are made at run time (see _fill).
# fmt: off
SCENARIOS = [(f"401 {m} {p}", None, m, p, kw, 401) for m, p, kw in _AUTHENTICATED] + [
    ("client certificate whoami", "cert", "GET", "/api/v1/whoami", {}, 200),
    ("client certificate read", "cert", "GET", S + "/{active}", {}, 200),
    ("untrusted client certificate", "untrusted-cert", "GET", "/api/v1/whoami", {}, 401),
    ("auditor may not write", "auditor", "POST", S, {"body": "{new}"}, 403),
    ("auditor reads the access log", "auditor", "GET", "/api/v1/audit/access",
     {"query": {"student": "{active}"}}, 200),
    ("school may not read the access log", "school:own", "GET", "/api/v1/audit/access",
     {"query": {"subject": "admin-cli"}}, 403),
    ("auditor reads what a principal changed", "auditor", "GET", "/api/v1/audit/changes",
     {"query": {"subject": "admin-cli"}}, 200),
    ("auditor verifies a chain", "auditor", "GET", S + "/{changed}/verify", {}, 200),
    ("auditor verifies a deleted student's chain", "auditor", "GET", S + "/{deleted}/verify", {},
     200),
    ("region may not read the changes log", "region", "GET", "/api/v1/audit/changes",
     {"query": {"subject": "admin-cli"}}, 403),
    ("school may not verify", "school:own", "GET", S + "/{active}/verify", {}, 403),
    ("school may not read the last verify", "school:own", "GET", "/api/v1/audit/verify/last", {},
     403),
    ("school reads its own student", "school:own", "GET", S + "/{active}", {}, 200),
    ("school searches its own", "school:own", "GET", S, {"query": {"organization": "{org}"}}, 200),
    ("school follows its feed", "school:own", "GET", "/api/v1/changes", {}, 200),
    ("school whoami", "school:own", "GET", "/api/v1/whoami", {}, 200),
    ("another school's student is 404", "school:other", "GET", S + "/{active}", {}, 404),
    ("another school's history is 404", "school:other", "GET", S + "/{active}/history", {}, 404),
    ("another school's trajectory is 404", "school:other", "GET", S + "/{active}/trajectory",
     {}, 404),
    ("auditor may not post events", "auditor", "POST", S + "/{active}/events",
     {"body": {"type": "EXPEL", "date": "2024-09-01",
               "order": {"number": "1", "date": "2024-09-01"}}}, 403),
    ("event without an open episode", "region", "POST", S + "/{active}/events",
     {"body": {"type": "EXPEL", "date": "2024-09-01",
               "order": {"number": "1", "date": "2024-09-01"}}}, 422),
    ("event on a deleted student", "region", "POST", S + "/{deleted}/events",
     {"body": {"type": "EXPEL", "date": "2024-09-01",
               "order": {"number": "1", "date": "2024-09-01"}}}, 410),
    ("trajectory", "school:own", "GET", S + "/{active}/trajectory", {}, 200),
    ("trajectory of a deleted student", "region", "GET", S + "/{deleted}/trajectory", {}, 410),
    ("school writes another school's student", "school:other", "POST", S, {"body": "{new}"}, 403),
    ("create", "region", "POST", S, {"body": "{new}", "query": {"reason": "приказ № 1"}}, 201),
    ("duplicate SNILS", "region", "POST", S, {"body": "{dup}"}, 409),
    ("validation in English", "region", "POST", S,
     {"body": {"last_name": "1", "sex": "X"}, "headers": {"Accept-Language": "en"}}, 422),
    ("not JSON", "region", "POST", S, {"body": "{not-json}"}, 400),
    ("body over 1 MiB", "region", "POST", S, {"body": {"birth_place": "x" * (1 << 20)}}, 413),
    ("wrong media type", "region", "PATCH", S + "/{active}",
     {"body": {}, "media_type": "application/json"}, 415),
    ("stale If-Match", "region", "PUT", S + "/{changed}",
     {"body": "{changed-doc}", "headers": {"If-Match": '"1"'}}, 412),
    ("bad If-Match", "region", "DELETE", S + "/{active}",
     {"headers": {"If-Match": "W/1"}, "query": {"reason": "x"}}, 400),
    ("reason over 500 characters", "region", "PATCH", S + "/{active}",
     {"body": {}, "query": {"reason": "я" * 501}}, 400),
    ("X-Reason not UTF-8", "region", "PATCH", S + "/{active}",
     {"body": {}, "headers": {"X-Reason": "%FF"}}, 400),
    ("merge patch", "region", "PATCH", S + "/{active}",
     {"body": {"birth_place": "г. Казань, Приволжский район"}, "headers": {"X-Reason": "%D0%B0"}},
     200),
    ("delete without a reason", "region", "DELETE", S + "/{active}", {}, 422),
    ("as of a time before the student", "region", "GET", S + "/{active}",
     {"query": {"as_of": "2001-01-01T00:00:00Z"}}, 404),
    ("as of a time to come", "region", "GET", S + "/{active}",
     {"query": {"as_of": "2999-01-01T00:00:00Z"}}, 200),
    ("read a deleted student", "region", "GET", S + "/{deleted}", {}, 410),
    ("delete a deleted student", "region", "DELETE", S + "/{deleted}",
     {"query": {"reason": "ещё раз"}}, 410),
    ("replace a deleted student", "region", "PUT", S + "/{deleted}", {"body": "{new}"}, 410),
    ("history of a deleted student", "region", "GET", S + "/{deleted}/history", {}, 200),
    ("the version that deleted", "region", "GET", S + "/{deleted}/versions/2", {}, 200),
    ("no such version", "region", "GET", S + "/{active}/versions/99", {}, 404),
    ("history page", "region", "GET", S + "/{changed}/history", {"query": {"limit": 1}}, 200),
    ("an encoded slash in the id", "region", "PUT", S + "/{changed}%2Fhistory", {"body": {}}, 405),
    ("query over 8192 bytes", "region", "GET", "/api/v1/changes",
     {"query": {"q": "a" * 9000}}, 414),
    ("more than 64 query parameters", "region", "GET", "/api/v1/changes",
     {"query": {f"p{i}": "1" for i in range(65)}}, 400),
    ("more than 100 headers", "region", "GET", "/api/v1/whoami",
     {"headers": {f"X-Kt-{i}": "1" for i in range(101)}}, 431),
    ("delete", "region", "DELETE", S + "/{victim}",
     {"headers": {"If-Match": '"1"', "X-Reason": _X_REASON}}, 204),
    ("student of an unknown organisation", "region", "POST", S, {"body": "{orphan}"}, 422),
    ("create an organisation", "region", "POST", O, {"body": "{new-org}"}, 201),
    ("duplicate OGRN", "admin", "POST", O, {"body": "{dup-org}"}, 409),
    ("school may not write organisations", "school:own", "POST", O, {"body": "{new-org}"}, 403),
    ("auditor may not change organisations", "auditor", "PATCH", O + "/{org}",
     {"body": {"site": "https://x.ru"}}, 403),
    ("school reads an organisation", "school:other", "GET", O + "/{org}", {}, 200),
    ("organisation history", "auditor", "GET", O + "/{org}/history", {}, 200),
    ("organisation version", "ministry", "GET", O + "/{org}/versions/1", {}, 200),
    ("organisation as XML", "region", "GET", O + "/{org}",
     {"headers": {"Accept": "application/xml"}}, 200),
    ("no such organisation", "region", "GET", O + "/{missing-org}", {}, 404),
    ("organisation list with a bad filter", "region", "GET", O, {"query": {"type": "X"}}, 400),
    ("access log of what is not a student id", "auditor", "GET", "/api/v1/audit/access",
     {"query": {"student": ""}}, 400),
    ("contingent report of an unknown level", "ministry", "GET", "/api/v1/reports/contingent",
     {"query": {"level": "X"}}, 400),
    ("migration report of an unknown level", "ministry", "GET", "/api/v1/reports/migration",
     {"query": {"level": "NOO1"}}, 400),
]
# fmt: on


@pytest.fixture(scope="module")
def credentials(seeded):
    """who → (headers, client certificate)."""
    tls = pathlib.Path(os.environ.get("KT_TEST_VAR", ".")) / "tls"

    def bearer(role, **kw):
        return {"Authorization": f"Bearer {issue_token(role, **kw)}"}, None

    return {
        None: ({}, None),
        "region": bearer("region"),
        "admin": bearer("admin"),
        "ministry": bearer("ministry"),
        "auditor": bearer("auditor"),
        "school:own": bearer("school", org=seeded["org"]),
        # A school token works only for a registered, ACTIVE organisation (docs/security.md).
        "school:other": bearer("school", org=new_org()),
        "cert": ({}, (str(tls / "region-client.crt"), str(tls / "region-client.key"))),
        "untrusted-cert": (
            {},
            (str(tls / "untrusted-client.crt"), str(tls / "untrusted-client.key")),
        ),
    }


def _fill(value, seeded):
    """The scenario's value with its placeholders replaced."""
    if isinstance(value, dict):
        return {k: _fill(v, seeded) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    if value == "{new}":
        return kt_data.student(org=seeded["org"])
    if value == "{dup}":
        return {
            **kt_data.student(org=seeded["org"], snils=False),
            "snils": seeded["active"]["snils"],
        }
    if value == "{changed-doc}":
        return seeded["changed"]
    if value == "{orphan}":
        return kt_data.student(org=kt_data.new_ogrn())
    if value == "{new-org}":
        return kt_data.organization()
    if value == "{dup-org}":
        return kt_data.organization(seeded["org"])
    if value == "{not-json}":
        return b'{"last_name": '
    if "{missing-org}" in value:
        return value.replace("{missing-org}", kt_data.new_ogrn())
    for key, student_id in seeded["named"].items():
        value = value.replace("{" + key + "}", student_id)
    return value.replace("{org}", seeded["org"])


_TEMPLATES = [
    (
        "/api/v1/students/{id}/versions/{n}",
        re.compile(r"^/api/v1/students/([^/]+)/versions/([^/]+)$"),
    ),
    ("/api/v1/students/{id}/history", re.compile(r"^/api/v1/students/([^/]+)/history$")),
    ("/api/v1/students/{id}/events", re.compile(r"^/api/v1/students/([^/]+)/events$")),
    ("/api/v1/students/{id}/trajectory", re.compile(r"^/api/v1/students/([^/]+)/trajectory$")),
    ("/api/v1/students/{id}/verify", re.compile(r"^/api/v1/students/([^/]+)/verify$")),
    ("/api/v1/students/{id}", re.compile(r"^/api/v1/students/([^/]+)$")),
    (
        "/api/v1/organizations/{ogrn}/versions/{n}",
        re.compile(r"^/api/v1/organizations/([^/]+)/versions/([^/]+)$"),
    ),
    (
        "/api/v1/organizations/{ogrn}/history",
        re.compile(r"^/api/v1/organizations/([^/]+)/history$"),
    ),
    ("/api/v1/organizations/{ogrn}", re.compile(r"^/api/v1/organizations/([^/]+)$")),
]


def _operation_of(method, path):
    """The document's operation for a concrete path, and its path parameters. "%2F" is a "/"
    inside a parameter (schemathesis percent-encodes it again when it sends the case)."""
    for template, rx in _TEMPLATES:
        m = rx.match(path)
        if m:
            values = [v.replace("%2F", "/") for v in m.groups()]
            names = ("ogrn", "n") if "{ogrn}" in template else ("id", "n")
            return schema[template][method], dict(zip(names, values))
    return schema[path][method], {}


@pytest.mark.parametrize(
    "who, method, path, request_, expected", [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS]
)
def test_spec_holds_beyond_the_fuzzer(who, method, path, request_, expected, seeded, credentials):
    headers, cert = credentials[who]
    if cert is not None:
        if not BASE_URL.startswith("https://"):
            pytest.skip("client certificates need the TLS stack")
        if not all(pathlib.Path(c).exists() for c in cert):
            pytest.skip(f"no {cert[0]}")
    operation, params = _operation_of(method, _fill(path, seeded))
    case_kwargs = {
        "path_parameters": params,
        "query": _fill(request_.get("query", {}), seeded),
        "headers": request_.get("headers", {}),
    }
    body = _fill(request_.get("body"), seeded)
    send_headers = dict(headers)
    if body is not None:
        default = "application/merge-patch+json" if method == "PATCH" else "application/json"
        media_type = request_.get("media_type", default)
        if isinstance(body, bytes):
            # Not JSON: sent as raw bytes under the JSON media type.
            case_kwargs.update(body=body, media_type="application/octet-stream")
            send_headers["Content-Type"] = media_type
        else:
            case_kwargs.update(body=body, media_type=media_type)
    case = operation.Case(**case_kwargs)
    # ignored_auth drops the Authorization header to see the request refused; a client
    # certificate is not a header it can drop.
    checks = [c for c in CHECKS if cert is None or c is not ignored_auth]
    response = case.call_and_validate(
        base_url=BASE_URL,
        headers=send_headers,
        checks=checks,
        timeout=TIMEOUT,
        verify=False,
        cert=cert,
    )
    assert response.status_code == expected, response.text[:500]


# --- the fuzzer ----------------------------------------------------------------------------


@schema.hook("flatmap_path_parameters")
def _seeded_paths(context, path_parameters):
    """Half of the time, the path names a seeded student (and a version of it)."""
    seeded = SEEDED["paths"].get(context.operation.label, [])
    if not seeded:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(seeded))


@schema.hook("flatmap_query")
def _seeded_queries(context, query):
    """Half of the time, a query that finds something."""
    seeded = SEEDED["queries"].get(context.operation.label, [])
    if not seeded:
        return st.just(query)
    return st.one_of(st.just(query), st.sampled_from(seeded))


# Each valid body is new to the store even when Hypothesis draws the same numbers again: it
# replays choices (the stateful phase above all) against a store that already holds what the
# first run created, and a 409 instead of a 201 would change what the sequence can do next.
_fresh = itertools.count(1)


def _valid_student(nine, number, org):
    """A student the validator accepts, from numbers Hypothesis drew, made unique."""
    nine = f"{1_002_000 + (nine + next(_fresh) * 7_919) % 998_997_999:09d}"
    doc = kt_data.student(org=org, snils=False)
    doc["snils"] = f"{nine}{kt_data.snils_check(nine):02d}"
    # A series of its own: kt_data numbers its certificates "IV-КБ" 000000, 000001, … for
    # every test file on this stack, and a drawn number under that series would take one
    # of theirs (409 DUPLICATE_DOCUMENT in a later file).
    doc["documents"][0]["series"] = "IV-ФЗ"
    doc["documents"][0]["number"] = f"{number:06d}"
    return doc


_VALID_PATCHES = [
    {},
    {"birth_place": "г. Набережные Челны"},
    {"middle_name": None, "representatives": None},
    {"citizenship": {"category": "DUAL", "countries": ["643", "398"]}},
    {
        "addresses": [
            {"kind": "RESIDENCE", "text": "г. Казань, ул. Пушкина, д. 3", "oktmo": "92701000"}
        ]
    },
]


def _valid_events():
    """Education events the rules accept in turn on a seeded student (at its own school)."""
    order = {"number": "1", "date": "2024-09-01"}
    return [
        {"type": "ENROLL", "date": "2024-09-01", "order": order, "organization": SEEDED["org"],
         "level": "NOO", "program": {"name": "ООП НОО"}, "form": "FULL_TIME", "grade": 1},
        {"type": "TRANSFER_CLASS", "date": "2025-09-01", "order": order, "grade": 2},
        {"type": "ACADEMIC_LEAVE", "date": "2025-10-01", "order": order},
        {"type": "RETURN", "date": "2025-11-01", "order": order},
        {"type": "EXPEL", "date": "2025-12-01", "order": order},
    ]
_VALID_ORG_PATCHES = [
    {},
    {"short_name": "МБОУ «Школа № 7»"},
    {"site": "https://school7.edu.ru", "head_name": "Галиев Ринат"},
    {"site": None, "head_name": None},
]


@schema.hook("flatmap_body")
def _valid_bodies(context, body):
    """Half of the time, a body the validator accepts, so that writes succeed too."""
    label = context.operation.label
    if SEEDED["org"] is None:
        return st.just(body)
    if label == "PATCH /api/v1/students/{id}":
        return st.one_of(st.just(body), st.sampled_from(_VALID_PATCHES).map(_steered))
    if label == "POST /api/v1/students/{id}/events":
        return st.one_of(st.just(body), st.sampled_from(_valid_events()).map(_steered))
    if label == "POST /api/v1/organizations":
        new = st.builds(lambda n: kt_data.organization(kt_data.ogrn(
            f"1{10**10 + (n + next(_fresh) * 7_919) % (9 * 10**10):011d}")),
                        st.integers(10**10, 10**11 - 1)).map(_steered)
        return st.one_of(st.just(body), new)
    if label == "PUT /api/v1/organizations/{ogrn}":
        return st.one_of(st.just(body), st.just(kt_data.organization(SEEDED["fuzz_org"])).map(_steered))
    if label == "PATCH /api/v1/organizations/{ogrn}":
        return st.one_of(st.just(body), st.sampled_from(_VALID_ORG_PATCHES).map(_steered))
    if label in ("POST /api/v1/students", "PUT /api/v1/students/{id}"):
        valid = st.builds(
            _valid_student,
            st.integers(1_002_000, 999_999_999),
            st.integers(0, 999_999),
            st.just(SEEDED["org"]),
        ).map(_steered)
        return st.one_of(st.just(body), valid)
    return st.just(body)


_IF_MATCH = re.compile(r'"[1-9][0-9]{0,17}"')


def _adjust_coverage_case(case):
    """Two adjustments to the cases of schemathesis's coverage phase (its deterministic sweep
    of boundary and type-mutation values), so that they test what they are about:

    - It puts only [A-Za-z0-9] into header values, so it cannot make a quoted version and
      seeds every case of PUT, PATCH and DELETE with `If-Match: 0`, which the server refuses
      (400) before it looks at anything else. Unless If-Match is what the case is about, the
      case goes without it.
    - Its PUT and PATCH cases name a student that does not exist, so the server answers 404
      before it reads the body. Unless the id is what the case is about, they name a seeded
      student, and the sweep of bodies reaches the validator.
    """
    meta = case.meta
    if meta is None or meta.phase.name.value != "coverage":
        return
    about = meta.phase.data.parameter
    value = (case.headers or {}).get("If-Match")
    if value is not None and about != "If-Match" and not _IF_MATCH.fullmatch(value):
        del case.headers["If-Match"]
    if case.method in ("PUT", "PATCH") and "{ogrn}" in case.path and about != "ogrn":
        case.path_parameters = {**(case.path_parameters or {}), "ogrn": SEEDED["fuzz_org"]}
    elif case.method in ("PUT", "PATCH") and about != "id" and SEEDED["named"]:
        case.path_parameters = {**(case.path_parameters or {}), "id": SEEDED["named"]["changed"]}


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
        verify=False,
    )


# --- the stateful phase: sequences of calls that follow the document's links ---------------

STATEFUL_EXAMPLES = kt_data.size("KT_OPENAPI_STATEFUL", 6, 15)
STATEFUL_STEPS = 5


class _Workflow(schema.as_state_machine()):
    """schemathesis's stateful phase: it chains operations by the links it finds (a created
    student's id into its reads, writes and history) and checks every answer as above."""

    token = None

    def get_call_kwargs(self, case):
        return {
            "headers": {"Authorization": f"Bearer {self.token}"},
            "verify": False,
            "timeout": TIMEOUT,
        }

    def before_call(self, case):
        if case.meta is not None and case.meta.phase.name.value == "coverage":
            _adjust_coverage_case(case)

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


def test_stateful_sequences_keep_to_the_spec(seeded, admin_token):
    _Workflow.token = admin_token
    _Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            # No shrinking: a sequence against a live store cannot be replayed as it ran
            # (ids and versions differ), and hypothesis would call that flaky.
            phases=[Phase.explicit, Phase.generate],
        )
    )
