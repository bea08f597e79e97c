"""Generators of valid test data: СНИЛС, ОГРН, birth certificates, whole students."""

import itertools
import random

_counter = itertools.count(1)
_rng = random.Random()


def snils_check(nine):
    s = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    if s < 100:
        return s
    if s in (100, 101):
        return 0
    s %= 101
    return 0 if s == 100 else s


def new_snils(formatted=False):
    nine = f"{_rng.randint(1_002_000, 999_999_999):09d}"
    digits = f"{nine}{snils_check(nine):02d}"
    if formatted:
        return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"
    return digits


def ogrn(twelve):
    return f"{twelve}{int(twelve) % 11 % 10}"


def new_ogrn():
    return ogrn(f"1{_rng.randint(10**10, 10**11 - 1)}")


SCHOOL_A = ogrn("102770013219")  # 1027700132195
SCHOOL_B = ogrn("103770000000")


_base = _rng.randint(0, 10**6)


def new_birth_cert_number():
    """Unique within a test run (the store is fresh for each run)."""
    return f"{(_base + next(_counter)) % 10**6:06d}"


def student(org=SCHOOL_A, snils=True, **overrides):
    doc = {
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "Петровна",
        "sex": "F",
        "birth_date": "2015-03-14",
        "birth_place": "г. Казань",
        "citizenship": {"category": "RF", "countries": ["643"]},
        "documents": [
            {
                "type": "BIRTH_CERT_RF",
                "series": "IV-КБ",
                "number": new_birth_cert_number(),
                "issuer": "Отдел ЗАГС Вахитовского района",
                "issued_on": "2015-03-20",
            }
        ],
        "addresses": [{"kind": "REGISTRATION", "text": "г. Казань, ул. Баумана, д. 1, кв. 2"}],
        "representatives": [
            {"kind": "MOTHER", "last_name": "Иванова", "first_name": "Анна", "phone": "+79001234567"}
        ],
        "organization": org,
    }
    if snils:
        doc["snils"] = new_snils()
    doc.update(overrides)
    return doc
