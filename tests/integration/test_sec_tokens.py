"""Issue 12, items 18–20, through nginx: bearer tokens (kid, iss/aud, jti, the TTL bound, the
ОГРН check digit, revocation, the organisation of a school token, the generic 401), the one text
rule for the stored free texts (reason, purpose, record fields), and the `left` entry of a
school's change feed (docs/security.md, docs/api.md, docs/operations.md)."""

import base64
import hashlib
import json
import subprocess
import tempfile
import time
import uuid
from urllib.parse import quote

import pytest

from conftest import TEST_VAR, assert_problem, ensure_org, issue_token, run_ctl
from kt_data import SCHOOL_A, SCHOOL_B, new_ogrn, organization, student

STUDENTS = "/api/v1/students"
WHOAMI = "/api/v1/whoami"
MERGE = {"Content-Type": "application/merge-patch+json"}
KEYS = TEST_VAR / "keys"
REVOKED = TEST_VAR / "tokens" / "revoked"
# docs/operations.md, "Tokens": a worker looks at var/tokens/revoked at most once a second.
REVOKED_CHECK_SECONDS = 1
GENERIC_401 = ("Нужен действительный токен (Bearer) или зарегистрированный клиентский "
               "сертификат; причина отказа записана в журнал сервера под request_id")
GENERIC_401_EN = ("A valid bearer token or a registered client certificate is required; the "
                  "reason for the refusal is in the server's log under the request_id")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(tok):
    header, payload, _ = tok.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def sign(header, claims):
    """A token signed with the stack's own private key (openssl, Ed25519), whatever it says."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    # Ed25519 signs in one shot, which openssl does from a file only.
    with tempfile.NamedTemporaryFile() as f:
        f.write(signing_input.encode())
        f.flush()
        sig = subprocess.run(
            ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", str(KEYS / "token-signing.key"),
             "-in", f.name], capture_output=True, check=True).stdout
    assert len(sig) == 64
    return f"{signing_input}.{b64url(sig)}"


def thumbprint():
    """RFC 7638 thumbprint of var/keys/token-signing.pub, computed apart from the server."""
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(KEYS / "token-signing.pub"),
                          "-outform", "DER"], capture_output=True, check=True).stdout
    jwk = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64url(der[-32:])
    return b64url(hashlib.sha256(jwk.encode()).digest())


def whoami(client, tok):
    return client.get(WHOAMI, token=tok)


def issue(*args, check=False):
    return run_ctl("token", "issue", *args, check=check)


# --- item 18: what kontingentctl issues --------------------------------------------------


def test_token_carries_kid_iss_aud_and_jti(token):
    header, claims = parts(token("region", sub="sec-claims"))
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": thumbprint()}
    assert claims["iss"] == "kontingentctl"
    assert claims["aud"] == "kontingent"
    assert len(claims["jti"]) == 22
    assert claims["exp"] - claims["iat"] == 3600
    assert parts(token("region"))[1]["jti"] != claims["jti"]


@pytest.mark.parametrize("ttl", ["36500d", "25h", "1441m", "86401s", "3650d"])
def test_issue_refuses_a_ttl_over_the_maximum(ttl):
    proc = issue("--role", "region", "--ttl", ttl)
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout == ""
    assert "--ttl" in proc.stderr and "at most 86400" in proc.stderr


@pytest.mark.parametrize("ttl,seconds", [("24h", 86400), ("1440m", 86400), ("90s", 90)])
def test_issue_accepts_a_ttl_up_to_the_maximum(ttl, seconds, client):
    proc = issue("--role", "region", "--ttl", ttl, check=True)
    _, claims = parts(proc.stdout.strip())
    assert claims["exp"] - claims["iat"] == seconds
    assert whoami(client, proc.stdout.strip()).status_code == 200


def test_issue_ttl_maximum_follows_the_configuration():
    env = {"KT_TOKEN_MAX_TTL": "172800"}
    assert run_ctl("token", "issue", "--role", "school", "--org", SCHOOL_A, "--ttl", "48h",
                   env=env).returncode == 0
    proc = run_ctl("token", "issue", "--role", "region", "--ttl", "31d",
                   env={"KT_TOKEN_MAX_TTL": str(31 * 86400)}, check=False)
    assert proc.returncode == 1 and "KT_TOKEN_MAX_TTL" in proc.stderr


@pytest.mark.parametrize("org", ["1027700132194", "1027700132190", "102770013219", "10277001321950"])
def test_issue_refuses_an_ogrn_with_a_wrong_check_digit(org):
    proc = issue("--role", "school", "--org", org)
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout == ""
    assert "ОГРН" in proc.stderr or "OGRN" in proc.stderr


# --- item 18: what the workers accept ----------------------------------------------------


def base_claims(**overrides):
    now = int(time.time())
    claims = {"sub": "sec-forged", "role": "region", "iss": "kontingentctl", "aud": "kontingent",
              "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def base_header(**overrides):
    header = {"alg": "EdDSA", "typ": "JWT", "kid": thumbprint()}
    header.update(overrides)
    return {k: v for k, v in header.items() if v is not None}


def test_a_token_signed_like_kontingentctl_is_accepted(client):
    assert whoami(client, sign(base_header(), base_claims())).status_code == 200


@pytest.mark.parametrize("what,header,claims", [
    ("no aud (today's tokens)", {}, {"aud": None}),
    ("no iss", {}, {"iss": None}),
    ("no aud and no iss", {}, {"aud": None, "iss": None}),
    ("another audience", {}, {"aud": "another-service"}),
    ("another issuer", {}, {"iss": "someone-else"}),
    ("no jti", {}, {"jti": None}),
    ("no kid", {"kid": None}, {}),
    ("another kid", {"kid": "x" * 43}, {}),
    ("a lifetime over the maximum", {}, {"exp": int(time.time()) + 40 * 86400}),
])
def test_tokens_the_workers_refuse(client, what, header, claims):
    r = whoami(client, sign(base_header(**header), base_claims(**claims)))
    body = assert_problem(r, 401, "UNAUTHENTICATED")
    assert body["detail"] == GENERIC_401, what


def test_an_audience_list_naming_us_is_accepted(client):
    tok = sign(base_header(), base_claims(aud=["another-service", "kontingent"]))
    assert whoami(client, tok).status_code == 200


def test_401_detail_is_the_same_whatever_the_reason(client, token, server_log):
    expired = sign(base_header(), base_claims(iat=int(time.time()) - 100,
                                              exp=int(time.time()) - 10))
    good = token("region", sub="sec-detail")
    bad_sig = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    answers = [
        client.get(WHOAMI),
        client.get(WHOAMI, headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        whoami(client, "not-a-token"),
        whoami(client, expired),
        whoami(client, bad_sig),
        whoami(client, sign(base_header(), base_claims(aud=None))),
    ]
    details = set()
    for r in answers:
        body = assert_problem(r, 401, "UNAUTHENTICATED")
        details.add(body["detail"])
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert details == {GENERIC_401}
    # The reason is in the server's log, on the line of the request.
    ids = {a.json()["request_id"] for a in answers}
    for _ in range(50):
        logged = {rec["request_id"]: rec.get("error") for rec in server_log.records()
                  if rec.get("request_id") in ids}
        if len(logged) == len(ids):
            break
        time.sleep(0.1)
    reasons = set(logged.values())
    assert "token expired" in reasons and "bad signature" in reasons and "bad claim aud" in reasons
    assert all(reasons), logged


def test_401_detail_in_english_is_generic_too(client):
    r = client.get(WHOAMI, headers={"Authorization": "Bearer x.y.z", "Accept-Language": "en"})
    assert assert_problem(r, 401, "UNAUTHENTICATED")["detail"] == GENERIC_401_EN


# --- item 18: revocation ----------------------------------------------------------------


def wait_for_reload():
    """A worker looks at the revocation list at most once a second: give it the chance."""
    time.sleep(REVOKED_CHECK_SECONDS + 0.5)


def test_revoke_by_jti(client, token):
    sub = f"sec-jti-{uuid.uuid4().hex[:8]}"
    first, second = token("region", sub=sub), token("region", sub=sub)
    assert whoami(client, first).status_code == 200
    proc = run_ctl("token", "revoke", "--jti", parts(first)[1]["jti"])
    assert "revoked" in proc.stdout
    wait_for_reload()
    for _ in range(4):  # every worker, whichever answers
        assert_problem(whoami(client, first), 401, "UNAUTHENTICATED")
        assert whoami(client, second).status_code == 200
    assert parts(first)[1]["jti"] in REVOKED.read_text()


def test_revoke_by_subject_and_reissue(client, token):
    sub = f"sec-sub-{uuid.uuid4().hex[:8]}"
    old = [token("school", org=SCHOOL_A, sub=sub) for _ in range(2)]
    other = token("school", org=SCHOOL_A, sub=sub + "-other")
    run_ctl("token", "revoke", "--subject", sub)
    wait_for_reload()
    for _ in range(2):
        for tok in old:
            assert_problem(whoami(client, tok), 401, "UNAUTHENTICATED")
        assert whoami(client, other).status_code == 200
    # A token issued after the revocation's second works again.
    new = token("school", org=SCHOOL_A, sub=sub)
    for _ in range(4):
        assert whoami(client, new).status_code == 200


@pytest.mark.parametrize("args", [[], ["--jti"], ["--jti", ""], ["--subject", ""],
                                  ["--jti", "a", "--subject", "b"], ["--jti", "a\tb"],
                                  ["--subject", "x\u202ey"], ["--what", "x"]])
def test_revoke_refuses_bad_arguments(args):
    before = REVOKED.read_text() if REVOKED.exists() else ""
    proc = run_ctl("token", "revoke", *args, check=False)
    assert proc.returncode == 2, proc.stdout
    after = REVOKED.read_text() if REVOKED.exists() else ""
    assert after == before


# --- item 18: the organisation of a school token ------------------------------------------


def test_school_token_of_an_unregistered_organisation_is_401(client, token):
    tok = token("school", org=new_ogrn(), sub="sec-unregistered")
    assert assert_problem(whoami(client, tok), 401, "UNAUTHENTICATED")["detail"] == GENERIC_401
    assert_problem(client.get(STUDENTS, token=tok, params={"snils": "11223344595"}), 401)


@pytest.mark.parametrize("status", ["LIQUIDATED", "REORGANIZED"])
def test_school_token_of_an_inactive_organisation_is_401(client, token, status):
    ogrn = ensure_org(new_ogrn(), status=status)
    assert_problem(whoami(client, token("school", org=ogrn, sub="sec-inactive")), 401,
                   "UNAUTHENTICATED")


def test_school_token_of_an_organisation_liquidated_before_its_first_use_is_401(client, token):
    ogrn = ensure_org(new_ogrn())
    region = token("region", sub="sec-registry")
    r = client.patch(f"/api/v1/organizations/{ogrn}", token=region, headers=MERGE,
                     data='{"status": "LIQUIDATED"}')
    assert r.status_code == 200, r.text
    assert_problem(whoami(client, token("school", org=ogrn, sub="sec-liquidated")), 401)


def test_school_token_of_an_active_organisation_works(client, token):
    ogrn = ensure_org(new_ogrn())
    r = whoami(client, token("school", org=ogrn, sub="sec-active"))
    assert r.status_code == 200, r.text
    assert r.json()["organization"] == ogrn


# --- item 19: one text rule ---------------------------------------------------------------


BAD_TEXT = {
    "DEL": "приказ\u007f45",
    "C1 NEL": "приказ\u008545",
    "C1 CSI": "приказ\u009b45",
    "RLO U+202E": "приказ № \u202e54",
    "LRE U+202A": "\u202aприказ",
    "RLI U+2067": "приказ \u2067№ 45",
    "RLM U+200F": "приказ\u200f № 45",
    "tab": "приказ\t45",
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_write_reason_follows_the_text_rule(client, token, name):
    region = token("region", sub="sec-text")
    text = quote(BAD_TEXT[name], safe="")
    r = client.post(STUDENTS, token=region, json=student(), headers={"X-Reason": text})
    body = assert_problem(r, 400, "FORMAT")
    assert "reason" in body["detail"]
    r = client.post(STUDENTS + "?reason=" + text, token=region, json=student())
    assert_problem(r, 400, "FORMAT")


def test_write_reason_keeps_ordinary_text(client, token):
    region = token("region", sub="sec-text")
    reason = "приказ № 45 от 01.09.2026 «о зачислении» — ок\u00a0"
    r = client.post(STUDENTS, token=region, json=student(),
                    headers={"X-Reason": quote(reason, safe="")})
    assert r.status_code == 201, r.text
    hist = client.get(f"{STUDENTS}/{r.json()['id']}/history", token=region).json()
    assert hist["items"][0]["reason"] == reason


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_read_purpose_follows_the_text_rule(client, token, name):
    reader = token("ministry", scope="health", sub="sec-purpose")
    sid = client.post(STUDENTS, token=token("region"), json=student()).json()["id"]
    r = client.get(f"{STUDENTS}/{sid}", token=reader, params={"purpose": BAD_TEXT[name]})
    assert_problem(r, 400, "FORMAT")
    r = client.get(f"{STUDENTS}/{sid}", token=reader,
                   headers={"X-Purpose": quote(BAD_TEXT[name], safe="")})
    assert_problem(r, 400, "FORMAT")
    r = client.get(f"{STUDENTS}/{sid}", token=reader, params={"purpose": "проверка"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", ["RLO U+202E", "RLI U+2067", "RLM U+200F"])
def test_record_fields_refuse_bidi_controls(client, token, name):
    r = client.post(STUDENTS, token=token("region"),
                    json=student(birth_place="г. Казань " + BAD_TEXT[name]))
    body = assert_problem(r, 422, "VALIDATION")
    assert [e["pointer"] for e in body["errors"]] == ["/birth_place"]
    assert body["errors"][0]["code"] == "FORMAT"


# --- item 20: the old school learns its student left --------------------------------------


def feed(client, tok, since, limit=100):
    r = client.get("/api/v1/changes", token=tok, params={"since": since, "limit": limit})
    assert r.status_code == 200, r.text
    return r.json()


def feed_end(client, tok):
    """The cursor after the last entry so far (a region reader: every entry counts)."""
    cursor = "0"
    while True:
        page = feed(client, tok, cursor, limit=500)
        if not page["items"]:
            return page["next_cursor"]
        cursor = page["next_cursor"]


def test_the_old_school_sees_a_left_entry(client, token):
    region = token("region", sub="sec-feed")
    school_a = token("school", org=SCHOOL_A, sub="sec-feed-a")
    school_b = token("school", org=SCHOOL_B, sub="sec-feed-b")
    sid = client.post(STUDENTS, token=region, json=student(org=SCHOOL_A)).json()["id"]
    a_from = b_from = feed_end(client, region)
    r = client.patch(f"{STUDENTS}/{sid}", token=region, headers=MERGE,
                     data=json.dumps({"organization": SCHOOL_B}))
    assert r.status_code == 200, r.text

    a_items = [e for e in feed(client, school_a, a_from)["items"] if e["student_id"] == sid]
    assert len(a_items) == 1
    left = a_items[0]
    assert left["kind"] == "left"
    assert set(left) == {"sequence", "student_id", "kind", "time"}

    b_items = [e for e in feed(client, school_b, b_from)["items"] if e["student_id"] == sid]
    assert [(e["kind"], e["version"]) for e in b_items] == [("update", 2)]
    assert b_items[0]["sequence"] == left["sequence"]
    # The new school's student is gone for the old one, as the feed said.
    assert_problem(client.get(f"{STUDENTS}/{sid}", token=school_a), 404)


def test_a_left_entry_is_only_for_the_school_it_left(client, token):
    region = token("region", sub="sec-feed")
    third = ensure_org(new_ogrn())
    school_a = token("school", org=SCHOOL_A, sub="sec-feed-a")
    sid = client.post(STUDENTS, token=region, json=student(org=SCHOOL_B)).json()["id"]
    a_from = feed_end(client, region)
    r = client.patch(f"{STUDENTS}/{sid}", token=region, headers=MERGE,
                     data=json.dumps({"organization": third}))
    assert r.status_code == 200, r.text
    # An update that does not move the student makes no left entry either.
    sid_a = client.post(STUDENTS, token=region, json=student(org=SCHOOL_A)).json()["id"]
    r = client.patch(f"{STUDENTS}/{sid_a}", token=region, headers=MERGE,
                     data=json.dumps({"birth_place": "г. Набережные Челны"}))
    assert r.status_code == 200, r.text
    items = feed(client, school_a, a_from)["items"]
    assert sid not in {e["student_id"] for e in items}
    assert [e["kind"] for e in items if e["student_id"] == sid_a] == ["create", "update"]
    region_items = [e for e in feed(client, region, a_from)["items"] if e["student_id"] == sid]
    assert [e["kind"] for e in region_items] == ["update"]
