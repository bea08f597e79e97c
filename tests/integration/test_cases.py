"""API cases as data: every file in cases/ is one scenario of HTTP steps run through nginx.

A step:
    {"as": "region" | "admin" | "auditor" | "ministry" | "school:<OGRN>" | "cert" | "none",
     "method": "POST", "path": "/api/v1/students/{{id}}",
     "headers": {...},
     "student": {...overrides of a generated valid student, null removes a field...},
     "json": {...} | "body": "raw text",
     "expect": {"status": 201, "code": "DUPLICATE_SNILS", "headers": {"ETag": "\\"1\\""},
                "json": {...subset...}, "errors": [["/snils", "SNILS_CHECKSUM"], ...]},
     "save": {"name": "json.key.path"}}
Strings may hold {{name}}: a value saved by an earlier step, or {{new_snils}} (a fresh valid
СНИЛС), {{new_number}} (a fresh birth-certificate number), {{school_a}}, {{school_b}}.
"""

import json
import pathlib
import re

import pytest

from conftest import assert_problem, issue_token
from kt_data import SCHOOL_A, SCHOOL_B, new_birth_cert_number, new_snils, student

CASES = sorted((pathlib.Path(__file__).parent / "cases").glob("*.json"))


def substitute(value, saved):
    if isinstance(value, str):
        def repl(m):
            name = m.group(1)
            if name == "new_snils":
                return new_snils()
            if name == "new_number":
                return new_birth_cert_number()
            if name == "school_a":
                return SCHOOL_A
            if name == "school_b":
                return SCHOOL_B
            return str(saved[name])
        return re.sub(r"\{\{(\w+)\}\}", repl, value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


_tokens = {}


def credentials(who):
    if who in (None, "none"):
        return {}
    if who == "cert":
        return {"cert": "region"}
    if who not in _tokens:
        role, _, org = who.partition(":")
        _tokens[who] = issue_token(role, org=org or None, sub=f"case-{role}")
    return {"token": _tokens[who]}


def is_subset(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            is_subset(e, a) for e, a in zip(expected, actual))
    return expected == actual


def dig(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def build_body(step, saved):
    if "student" in step:
        doc = student()
        for k, v in substitute(step["student"], saved).items():
            if v is None:
                doc.pop(k, None)
            else:
                doc[k] = v
        return {"json": doc}
    if "json" in step:
        return {"json": substitute(step["json"], saved)}
    if "body" in step:
        return {"data": substitute(step["body"], saved).encode()}
    return {}


def check(resp, expect, where):
    status = expect["status"]
    if "code" in expect or status >= 400:
        body = assert_problem(resp, status, expect.get("code"))
    else:
        assert resp.status_code == status, f"{where}: {resp.status_code} {resp.text[:400]}"
        body = resp.json() if resp.content else None
    for name, value in expect.get("headers", {}).items():
        assert resp.headers.get(name) == value, f"{where}: header {name}={resp.headers.get(name)}"
    if "json" in expect:
        assert is_subset(expect["json"], body), f"{where}: {json.dumps(body, ensure_ascii=False)}"
    if "errors" in expect:
        got = {(e["pointer"], e["code"]) for e in body.get("errors", [])}
        for pointer, code in expect["errors"]:
            assert (pointer, code) in got, f"{where}: {(pointer, code)} not in {sorted(got)}"
    return body


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path, client, region_cert):
    case = json.loads(path.read_text())
    saved = {}
    for i, step in enumerate(case["steps"], start=1):
        where = f"{path.name} step {i}"
        auth = credentials(step.get("as", "region"))
        if auth.get("cert"):
            auth = {"cert": region_cert}
        resp = client.request(step["method"], substitute(step["path"], saved),
                              headers=substitute(step.get("headers", {}), saved),
                              **auth, **build_body(step, saved))
        body = check(resp, substitute(step["expect"], saved), where)
        for name, path_in_body in step.get("save", {}).items():
            saved[name] = dig(body, path_in_body)
        for name, header in step.get("save_header", {}).items():
            saved[name] = resp.headers[header]
