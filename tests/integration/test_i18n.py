"""Languages (docs/i18n.md): every text a person reads is Russian by default and English
under Accept-Language: en, from one catalogue; codes are the same in both; receipts are
Russian whatever the request asks."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import assert_problem
from kt_data import student

S = "/api/v1/students"
P = "/api/v1/packages"
NS = "urn:kontingent:exchange:1"
CYRILLIC = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")


def russian(text):
    return any(c in CYRILLIC for c in text)


@pytest.fixture
def region(client, token):
    return client.with_token(token("region", sub="i18n-tests"))


def bad_student(region, lang=None):
    doc = student()
    doc["sex"] = "X"
    doc["first_name"] = 5
    headers = {"Accept-Language": lang} if lang else {}
    return region.post(S, json=doc, headers=headers)


def test_errors_are_russian_by_default(region):
    r = bad_student(region)
    body = assert_problem(r, 422, "VALIDATION")
    assert body["title"] == "Ошибки в данных"
    assert body["detail"] == "Данные обучающегося не прошли проверку (ошибок: 2)"
    messages = {e["pointer"]: e["message"] for e in body["errors"]}
    assert messages == {"/sex": "Допустимые значения: M, F", "/first_name": "Ожидается строка"}
    assert r.headers["Content-Language"] == "ru"
    assert "Accept-Language" in r.headers["Vary"]


def test_errors_are_english_under_accept_language_en(region):
    r = bad_student(region, "en")
    body = assert_problem(r, 422, "VALIDATION")
    assert body["title"] == "Validation failed"
    assert body["detail"] == "The student's data failed validation (2 errors)"
    messages = {e["pointer"]: e["message"] for e in body["errors"]}
    assert messages == {"/sex": "Allowed values: M, F", "/first_name": "A string is expected"}
    assert {e["code"] for e in body["errors"]} == {"ENUM", "FORMAT"}
    assert r.headers["Content-Language"] == "en"


@pytest.mark.parametrize("value,lang", [
    ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
    ("ru;q=0.5, en", "en"),
    ("de, en;q=0.3", "en"),
    ("en;q=0, ru", "ru"),
    ("de", "ru"),
    ("", "ru"),
])
def test_accept_language_weights(region, value, lang):
    r = bad_student(region, value)
    assert r.headers["Content-Language"] == lang
    assert russian(r.json()["detail"]) == (lang == "ru")


@pytest.mark.parametrize("lang,detail", [(None, "такого обучающегося нет"),
                                         ("en", "no such student")])
def test_not_found_detail(region, lang, detail):
    headers = {"Accept-Language": lang} if lang else {}
    body = assert_problem(region.get(f"{S}/{uuid.uuid4()}", headers=headers), 404, "NOT_FOUND")
    assert body["detail"] == detail


def test_event_summary_is_grammatical(region):
    sid = region.post(S, json=student()).json()["id"]
    r = region.post(f"{S}/{sid}/events", json={"type": "ENROLL"})
    body = assert_problem(r, 422, "VALIDATION")
    assert body["detail"].startswith("Событие обучения не прошло проверку (ошибок: ")
    r = region.post(f"{S}/{sid}/events", json={"type": "ENROLL"},
                    headers={"Accept-Language": "en"})
    assert assert_problem(r, 422)["detail"].startswith("The education event failed validation (")


def test_malformed_query_parameter_in_both_languages(region):
    body = assert_problem(region.get(f"{S}?organization=1027700132195&limit=0"), 400)
    assert russian(body["detail"]), body
    body = assert_problem(region.get(f"{S}?organization=1027700132195&limit=0",
                                     headers={"Accept-Language": "en"}), 400)
    assert not russian(body["detail"]), body


def packet(items):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="{NS}"><Header>'
            f"<PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>TEST-I18N</SourceSystemID>"
            f"<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>"
            + "".join(items) + "</Data></Packet>").encode()


def receipt_errors(resp):
    assert resp.status_code == 200, resp.text[:500]
    root = ET.fromstring(resp.content)
    return [(e.get("code"), e.text) for e in root.iter(f"{{{NS}}}Error")]


@pytest.mark.parametrize("lang", [None, "en"])
def test_receipts_are_russian(client, region_cert, lang):
    headers = {"Content-Type": "application/xml"}
    if lang:
        headers["Accept-Language"] = lang
    body = packet([f'<DeleteStudent id="{uuid.uuid4()}" localId="1" reason="ошибка"/>',
                   "<Student><LastName>Иванов</LastName><FirstName>Иван</FirstName>"
                   "<Sex>X</Sex></Student>"])
    r = client.post(P, data=body, headers=headers, cert=region_cert)
    errors = receipt_errors(r)
    assert r.headers["Content-Language"] == "ru"
    assert ("NOT_FOUND", "такого обучающегося нет") in errors
    xsd = [text for code, text in errors if code == "XSD"]
    assert xsd and all(text.startswith("Строка ") for text in xsd), errors
    # Our words for libxml2's errors, in Russian: nothing of libxml2's English.
    for text in xsd:
        assert "(XSD: " in text and russian(text), text
        assert "Element" not in text and "expected" not in text and "not an element" not in text


@pytest.mark.parametrize("lang,want", [(None, "ru"), ("en", "en")])
def test_nginx_own_errors_say_their_language(client, lang, want):
    headers = {"Accept-Language": lang} if lang else {}
    r = client.get("/no-such-page.html", headers=headers)
    body = assert_problem(r, 404, "NOT_FOUND")
    assert r.headers["Content-Language"] == want
    assert "Accept-Language" in r.headers["Vary"]
    assert russian(body["title"]) == (want == "ru")
    # The server's other headers stay.
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("lang, detail", [
    (None, "реестр организаций меняют только регион и администраторы"),
    ("en", "only the region and administrators change the registry of organisations"),
])
def test_a_routes_refusal_in_both_languages(client, token, lang, detail):
    """A route's 403 (fcgi/routes.c's `denied`) is a text of the catalogue too."""
    school = client.with_token(token("school", org="1027700132195", sub="i18n-tests"))
    headers = {"Accept-Language": lang} if lang else {}
    r = school.post("/api/v1/organizations", json={}, headers=headers)
    body = assert_problem(r, 403, "FORBIDDEN")
    assert body["detail"] == detail
