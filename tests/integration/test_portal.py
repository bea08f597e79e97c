"""The families' service end to end through nginx (issue 15, docs/api.md "The families'
service"): the state services portal authenticates by its own client certificate (role
portal), passes a person's ЕСИА token signed with ГОСТ Р 34.10-2012 by keys this test makes
(openssl with the gost engine), and sees exactly the allowed members of that person's
children in two schools — and nothing for a stranger; every answer is in the access log
under the person's СНИЛС."""

import base64
import datetime
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import requests

from conftest import (BASE_URL, TEST_VAR, Client, assert_problem, ensure_org, master_pid,
                      region_today, wait_for_workers, worker_pids)
from kt_data import new_ogrn, new_snils, student

S = "/api/v1/students"
F = "/api/v1/family/children"
ISS = "http://esia.gosuslugi.ru/"  # KT_ESIA_ISSUER's default
AUD = "kontingent"  # KT_ESIA_AUDIENCE's default
PORTAL_SUBJECT = "/C=RU/O=EPGU Test/CN=EPGU-PORTAL"
PORTAL_DN = "CN=EPGU-PORTAL,O=EPGU Test,C=RU"
ITEM_MEMBERS = {"id", "relation", "last_name", "first_name", "middle_name", "birth_date",
                "school", "class"}
PROGRAM = {"name": "Основная образовательная программа ООО", "code": "ООО-1", "adapted": False}


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Esia:
    """ЕСИА as this test plays it: its own GOST (and RSA) keys, minting identity tokens."""

    def __init__(self, where):
        self.dir = where
        self.gost = where / "esia-gost.key"
        self.other = where / "other-gost.key"
        self.rsa = where / "esia-rsa.key"
        for key in (self.gost, self.other):
            openssl("genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt",
                    "paramset:A", "-out", str(key))
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                str(self.rsa))

    def public_pem(self):
        return (openssl("pkey", "-engine", "gost", "-in", str(self.gost), "-pubout") +
                openssl("pkey", "-in", str(self.rsa), "-pubout"))

    def token(self, person, alg="GOST3410_2012_256", key=None, **claims):
        """A token naming the person by СНИЛС; claims override (None: leave out)."""
        now = int(time.time())
        payload = {"iss": ISS, "aud": AUD, "exp": now + 600, "iat": now, "sub": "1000" + person[:6],
                   "snils": person, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        body = b64url(json.dumps(payload, ensure_ascii=False).encode())
        signing_input = f"{head}.{body}".encode()
        if alg == "RS256":
            sig = openssl("dgst", "-sha256", "-sign", str(key or self.rsa), data=signing_input)
        else:
            sig = openssl("dgst", "-engine", "gost", "-md_gost12_256", "-sign",
                          str(key or self.gost), data=signing_input)
        return f"{head}.{body}.{b64url(sig)}"


def restart_workers():
    old = worker_pids()
    os.kill(master_pid(), signal.SIGHUP)
    wait_for_workers(exclude=old)


@pytest.fixture(scope="module")
def esia(tmp_path_factory):
    """The ЕСИА keys in KT_ESIA_KEYS and the portal's certificate in the certificate map,
    read by new workers; both taken away afterwards."""
    where = tmp_path_factory.mktemp("esia")
    tls, keys = TEST_VAR / "tls", TEST_VAR / "keys"
    clients_map = tls / "clients.map"
    saved_map = clients_map.read_text()
    e = Esia(where)
    (keys / "esia.pem").write_bytes(e.public_pem())
    (keys / "esia.pem").chmod(0o600)
    portal_key, portal_crt = where / "portal.key", where / "portal.crt"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
            str(portal_key))
    csr = openssl("req", "-new", "-key", str(portal_key), "-subj", PORTAL_SUBJECT)
    ext = where / "client.ext"
    ext.write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-CA", str(tls / "client-ca.crt"), "-CAkey", str(tls / "client-ca.key"),
            "-set_serial", "0x" + os.urandom(8).hex(), "-days", "2", "-extfile", str(ext),
            "-out", str(portal_crt), data=csr)
    clients_map.write_text(saved_map + f"portal - {PORTAL_DN}\n")
    restart_workers()
    e.cert = (str(portal_crt), str(portal_key))
    yield e
    clients_map.write_text(saved_map)
    (keys / "esia.pem").unlink()
    restart_workers()
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def portal(client, esia):
    return client.with_cert(esia.cert)


def ask(portal, esia, person, path=F, **claims):
    return portal.get(path, headers={"X-ESIA-Token": esia.token(person, **claims)})


def enroll(api, sid, org, grade, letter):
    ev = {"type": "ENROLL", "date": "2025-09-01", "order": {"number": "12-у", "date": "2025-08-28"},
          "organization": org, "level": "OOO", "program": PROGRAM, "form": "FULL_TIME",
          "grade": grade, "class_letter": letter}
    r = api.post(f"{S}/{sid}/events", json=ev)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def family(token, esia):
    """A parent with two children in two schools; the other parent of the first; a stranger;
    a teenager of 16 and a child of 13 with their own СНИЛС."""
    session = requests.Session()
    session.verify = False
    region = Client(BASE_URL, token("region"), session=session)
    schools = [ensure_org(new_ogrn(), short_name=name, full_name=f"МБОУ «{name}» г. Казани")
               for name in ("Гимназия № 7", "Лицей № 2")]
    parent, father, stranger = new_snils(), new_snils(), new_snils()
    mother = {"kind": "MOTHER", "last_name": "Сидорова", "first_name": "Елена",
              "snils": parent, "phone": "+79005550101"}
    dad = {"kind": "FATHER", "last_name": "Петров", "first_name": "Олег", "snils": father,
           "phone": "+79005550202", "email": "oleg@example.org"}
    kids = []
    for name, last, birth, org, reps, grade, letter in [
            ("Антон", "Сидоров", "2013-05-02", schools[0], [mother, dad], 7, "Б"),
            ("Вера", "Сидорова", "2014-10-20", schools[1], [mother], 5, "А")]:
        doc = student(org=org, first_name=name, last_name=last, birth_date=birth,
                      representatives=reps)
        r = region.post(S, json=doc)
        assert r.status_code == 201, r.text
        enroll(region, r.json()["id"], org, grade, letter)
        kids.append({**r.json(), "doc": doc, "org": org, "grade": grade, "letter": letter})
    # 16 years old, and 13 (14 tomorrow), in the region's time zone.
    today = region_today()
    teen_snils, young_snils = new_snils(), new_snils()
    teen_birth = f"{today.year - 16}-01-01"
    tomorrow = today + datetime.timedelta(days=1)
    young_birth = (f"{tomorrow.year - 14}-03-01" if (tomorrow.month, tomorrow.day) == (2, 29)
                   else f"{tomorrow.year - 14}-{tomorrow.month:02d}-{tomorrow.day:02d}")
    born = []
    for org, birth, own in ((schools[0], teen_birth, teen_snils), (schools[1], young_birth,
                                                                   young_snils)):
        doc = student(org=org, birth_date=birth, snils=False)
        doc["snils"] = own
        doc["documents"][0]["issued_on"] = birth
        r = region.post(S, json=doc)
        assert r.status_code == 201, r.text
        born.append(r.json())
    teen, young = born
    return {"parent": parent, "father": father, "stranger": stranger, "kids": kids,
            "schools": schools, "teen": (teen, teen_snils), "young": (young, young_snils)}


def check_item(item, kid):
    assert set(item) == ITEM_MEMBERS, item
    assert item["id"] == kid["id"]
    assert item["relation"] == "MOTHER"
    assert (item["last_name"], item["first_name"], item["birth_date"]) == (
        kid["doc"]["last_name"], kid["doc"]["first_name"], kid["doc"]["birth_date"])
    assert item["school"]["ogrn"] == kid["org"]
    assert set(item["school"]) == {"ogrn", "short_name", "full_name"}
    assert item["class"] == {"level": "OOO", "grade": kid["grade"], "class_letter": kid["letter"],
                             "status": "ACTIVE"}


def nothing_else(text, family):
    """What a family must never see: documents, addresses, СНИЛС, other representatives."""
    for kid in family["kids"]:
        doc = kid["doc"]
        for secret in (doc["snils"], doc["documents"][0]["number"], doc["addresses"][0]["text"],
                       doc["birth_place"], family["father"], family["parent"], "Олег",
                       "+79005550202", "oleg@example.org", "+79005550101", "Сидорова Елена"):
            assert secret not in text, secret
    for word in ("representatives", "documents", "addresses", "health", "snils", "citizenship"):
        assert f'"{word}"' not in text, word


def test_parent_sees_exactly_their_two_children(portal, esia, family):
    r = ask(portal, esia, family["parent"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    by_id = {item["id"]: item for item in body["items"]}
    assert set(by_id) == {kid["id"] for kid in family["kids"]}
    for kid in family["kids"]:
        check_item(by_id[kid["id"]], kid)
    names = {by_id[k["id"]]["school"]["short_name"] for k in family["kids"]}
    assert names == {"Гимназия № 7", "Лицей № 2"}
    nothing_else(r.text, family)
    for kid in family["kids"]:
        one = ask(portal, esia, family["parent"], path=f"{F}/{kid['id']}")
        assert one.status_code == 200, one.text
        check_item(one.json(), kid)
        nothing_else(one.text, family)


def test_the_formatted_snils_and_rs256_name_the_same_person(portal, esia, family):
    p = family["parent"]
    formatted = f"{p[0:3]}-{p[3:6]}-{p[6:9]} {p[9:]}"
    for r in (ask(portal, esia, formatted), ask(portal, esia, p, alg="RS256")):
        assert r.status_code == 200, r.text
        assert {i["id"] for i in r.json()["items"]} == {k["id"] for k in family["kids"]}


def test_the_other_parent_sees_only_their_child(portal, esia, family):
    r = ask(portal, esia, family["father"])
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["id"] == family["kids"][0]["id"] and item["relation"] == "FATHER"


def test_a_stranger_gets_an_empty_list_and_no_child(portal, esia, family):
    r = ask(portal, esia, family["stranger"])
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "next_cursor": None}
    for kid in family["kids"]:
        assert_problem(ask(portal, esia, family["stranger"], path=f"{F}/{kid['id']}"), 404,
                       "NOT_FOUND")
    assert_problem(ask(portal, esia, family["parent"], path=f"{F}/not-a-uuid"), 404, "NOT_FOUND")
    teen, _ = family["teen"]
    assert_problem(ask(portal, esia, family["parent"], path=f"{F}/{teen['id']}"), 404,
                   "NOT_FOUND")


def test_a_child_of_14_sees_themself_and_of_13_does_not(portal, esia, family):
    teen, teen_snils = family["teen"]
    r = ask(portal, esia, teen_snils)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["id"] == teen["id"] and item["relation"] == "SELF"
    assert set(item) == ITEM_MEMBERS and item["class"] is None
    assert ask(portal, esia, teen_snils, path=f"{F}/{teen['id']}").status_code == 200
    young, young_snils = family["young"]
    assert ask(portal, esia, young_snils).json()["items"] == []
    assert_problem(ask(portal, esia, young_snils, path=f"{F}/{young['id']}"), 404, "NOT_FOUND")


def test_bad_identity_tokens_are_401(portal, esia, family):
    p = family["parent"]
    now = int(time.time())
    bad = {
        "none": portal.get(F),
        "another key": ask(portal, esia, p, key=esia.other),
        "expired": ask(portal, esia, p, exp=now - 3600),
        "wrong aud": ask(portal, esia, p, aud="another-system"),
        "wrong iss": ask(portal, esia, p, iss="https://esia.example.org/"),
        "no snils": ask(portal, esia, p, snils=None),
        "bad checksum": ask(portal, esia, p[:9] + ("00" if p[9:] != "00" else "01")),
    }
    for why, r in bad.items():
        assert r.status_code == 401, why
        assert_problem(r, 401, "UNAUTHENTICATED")
    head = b64url(b'{"alg":"none","typ":"JWT"}')
    body = b64url(json.dumps({"iss": ISS, "aud": AUD, "exp": now + 60, "snils": p}).encode())
    assert_problem(portal.get(F, headers={"X-ESIA-Token": f"{head}.{body}."}), 401,
                   "UNAUTHENTICATED")


def test_the_portal_reaches_nothing_else_and_nobody_else_reaches_it(client, portal, esia, token,
                                                                   family):
    kid = family["kids"][0]["id"]
    for path in (S, f"{S}/{kid}", f"{S}/{kid}/history", "/api/v1/changes", "/api/v1/export",
                 "/api/v1/organizations", "/api/v1/reports/contingent", "/api/v1/audit/access"):
        assert_problem(portal.get(path, headers={"X-ESIA-Token": esia.token(family["parent"])}),
                       403, "FORBIDDEN")
    for role in ("region", "ministry_education", "ministry_health", "auditor", "admin"):
        r = client.get(F, token=token(role), headers={"X-ESIA-Token": esia.token(family["parent"])})
        assert_problem(r, 403, "FORBIDDEN")


def test_the_access_log_shows_the_parent_through_the_portal(client, portal, esia, token, family):
    auditor = client.with_token(token("auditor"))
    r = ask(portal, esia, family["parent"])
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    kid = family["kids"][0]["id"]
    one = ask(portal, esia, family["parent"], path=f"{F}/{kid}")
    subject = "esia:snils:" + family["parent"]
    items = auditor.get("/api/v1/audit/access", params={"subject": subject}).json()["items"]
    [listed] = [e for e in items if e["request_id"] == rid]
    assert listed["what"] == "family"
    assert sorted(listed["students"]) == sorted(k["id"] for k in family["kids"])
    assert listed["principal"]["role"] == "portal"
    # «Кто смотрел данные моего ребёнка»: the child's own log holds the parent's views.
    seen = auditor.get("/api/v1/audit/access", params={"student": kid}).json()["items"]
    mine = [e for e in seen if e["principal"]["subject"] == subject]
    assert {e["request_id"] for e in mine} >= {rid, one.headers["X-Request-Id"]}
    assert {e["what"] for e in mine} >= {"family", "family_child"}
    # A stranger's empty answer is logged too: who asked, and that nothing was shown.
    r = ask(portal, esia, family["stranger"])
    items = auditor.get("/api/v1/audit/access",
                        params={"subject": "esia:snils:" + family["stranger"]}).json()["items"]
    [entry] = [e for e in items if e["request_id"] == r.headers["X-Request-Id"]]
    assert entry["students"] == []


def test_without_keys_the_service_is_unavailable(portal, esia, family):
    keys = TEST_VAR / "keys" / "esia.pem"
    saved = keys.read_bytes()
    try:
        keys.unlink()
        restart_workers()
        assert_problem(ask(portal, esia, family["parent"]), 503)
    finally:
        keys.write_bytes(saved)
        keys.chmod(0o600)
        restart_workers()
    assert ask(portal, esia, family["parent"]).status_code == 200
