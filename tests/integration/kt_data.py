"""Generators of valid test data: СНИЛС, ОГРН, ИНН, birth certificates, whole students and
organisations."""

import fcntl
import itertools
import os
import random

_counter = itertools.count(1)
_rng = random.Random()


def size(name, default, full):
    """The size of a bulk test: the environment's `name` when set, else `full` with
    KT_TEST_FULL=1 (the nightly run: README.md, "Development"), else `default`, the size
    scripts/test runs in CI, as small as still tests the same thing."""
    if os.environ.get(name):
        return int(os.environ[name])
    return full if os.environ.get("KT_TEST_FULL") == "1" else default


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

# Organisations every test may name: conftest.py creates them once per session (a student's
# organisation must exist and be ACTIVE).
SCHOOLS = (SCHOOL_A, SCHOOL_B)


def inn_check(nine):
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return sum(w * int(d) for w, d in zip(weights, nine)) % 11 % 10


def new_inn():
    nine = f"{_rng.randint(10**8, 10**9 - 1)}"
    return f"{nine}{inn_check(nine)}"


def organization(ogrn_=None, **overrides):
    """A valid organisation (a school); a new ОГРН unless one is given."""
    doc = {
        "ogrn": ogrn_ or new_ogrn(),
        "inn": new_inn(),
        "kpp": "165501001",
        "full_name": "Муниципальное бюджетное общеобразовательное учреждение «Школа № 1»",
        "short_name": "МБОУ «Школа № 1»",
        "type": "SCHOOL",
        "oktmo": "92701000",
        "addresses": [{"kind": "LEGAL", "text": "г. Казань, ул. Баумана, д. 10", "region_code": "16"}],
        "license": {"number": "Л035-01234-16/00123456", "issued_on": "2016-08-01",
                    "issuer": "Министерство образования и науки Республики Татарстан"},
        "status": "ACTIVE",
    }
    doc.update(overrides)
    return doc


_base = _rng.randint(0, 10**6)


_block = [0, 0]  # the next number of this process's block, and the block's end


def _next_number():
    """Numbers unique across the pytest processes that share a stack (its store outlives
    each test file): blocks of 1000 taken from a counter file in KT_TEST_VAR under a lock;
    without KT_TEST_VAR, a random base for this process."""
    if _block[0] >= _block[1]:
        var = os.environ.get("KT_TEST_VAR")
        if not var:
            return _base + next(_counter)
        with open(os.path.join(var, "kt-data-counter"), "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            start = int(f.read() or 0)
            f.seek(0)
            f.truncate()
            f.write(str(start + 1000))
        _block[0], _block[1] = start, start + 1000
    _block[0] += 1
    return _block[0] - 1


def new_birth_cert_number():
    """Unique within a test run (the store is fresh for each run)."""
    return f"{_next_number() % 10**6:06d}"


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
