"""The exchange XSD checked by a second, independent implementation.

libxml2 validates packages in the service (model/xmlio_read.c); here the Python package
`xmlschema` (its own XSD 1.0 engine, no libxml2) must agree that the schema is a valid
XSD 1.0 schema, that every file in xsd/samples/ is valid, and that broken variants of
them are not. The regional systems will validate with whatever their platform has, so
a schema that only libxml2 understands would be a broken contract.

No stack is needed: these tests only read files.
"""

import io
import pathlib
import xml.etree.ElementTree as ET

import pytest
import xmlschema

REPO = pathlib.Path(__file__).resolve().parents[2]
XSD = REPO / "xsd" / "kontingent-exchange-1.xsd"
SAMPLES = REPO / "xsd" / "samples"
SEEDS = REPO / "tests" / "fuzz" / "seeds" / "package"
NS = "urn:kontingent:exchange:1"
XS = "{http://www.w3.org/2001/XMLSchema}"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema10(str(XSD))


def valid(schema, text):
    return schema.is_valid(io.BytesIO(text.encode("utf-8")))


def sample(name):
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_schema_loads_as_xsd_1_0(schema):
    assert schema.target_namespace == NS
    assert schema.XSD_VERSION == "1.0"
    assert {e.local_name for e in schema.elements.values()} == {
        "Packet",
        "Student",
        "DeleteStudent",
        "Event",
        "Organization",
        "ContingentReport",
        "Receipt",
    }


def test_every_declaration_is_documented():
    tree = ET.parse(XSD)
    undocumented = [
        decl.get("name") or decl.get("ref")
        for tag in ("element", "attribute", "simpleType", "complexType")
        for decl in tree.iter(XS + tag)
        if decl.get("name") is not None
        and decl.find(f"{XS}annotation/{XS}documentation") is None
    ]
    assert undocumented == []


def test_patterns_use_ascii_digits():
    # In XSD \d also matches Arabic-Indic and other digits, which the server refuses.
    patterns = [p.get("value") for p in ET.parse(XSD).iter(XS + "pattern")]
    assert patterns
    assert [p for p in patterns if "\\d" in p] == []


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.xml")), ids=lambda p: p.name)
def test_samples_are_valid(schema, path):
    schema.validate(str(path))


@pytest.mark.parametrize(
    "path",
    sorted(SEEDS.glob("valid_*.xml")) + [SEEDS / "windows1251.xml", SEEDS / "utf16_delete.xml"],
    ids=lambda p: p.name,
)
def test_valid_fuzz_seeds_are_valid(schema, path):
    schema.validate(str(path))


@pytest.mark.parametrize(
    "path",
    sorted(SEEDS.glob("item_*.xml")) + [SEEDS / "unknown_item.xml", SEEDS / "after_data.xml"],
    ids=lambda p: p.name,
)
def test_broken_fuzz_seeds_are_invalid(schema, path):
    assert not schema.is_valid(str(path))


# (sample, text in it, replacement): each makes one thing wrong.
BROKEN = {
    "names swapped": (
        "student.xml",
        "<LastName>Иванова-Петрова</LastName>\n  <FirstName>Анна</FirstName>",
        "<FirstName>Анна</FirstName>\n  <LastName>Иванова-Петрова</LastName>",
    ),
    "sex outside the list": ("student.xml", "<Sex>F</Sex>", "<Sex>Ж</Sex>"),
    "sex with spaces": ("student.xml", "<Sex>F</Sex>", "<Sex> F </Sex>"),
    "no organization": ("student.xml", "<Organization>1021600001235</Organization>", ""),
    "organization of 12 digits": (
        "student.xml",
        "<Organization>1021600001235</Organization>",
        "<Organization>102160000123</Organization>",
    ),
    "date with Arabic-Indic digits": (
        "student.xml",
        "<BirthDate>2015-05-20</BirthDate>",
        "<BirthDate>٢٠١٥-05-20</BirthDate>",
    ),
    "date as a dateTime": (
        "student.xml",
        "<BirthDate>2015-05-20</BirthDate>",
        "<BirthDate>2015-05-20T00:00:00</BirthDate>",
    ),
    "snils of 10 digits": ("student.xml", "<SNILS>11223344595</SNILS>", "<SNILS>1122334459</SNILS>"),
    "no documents": (
        "student.xml",
        "<Documents>",
        "<Documents></Documents><Documents>",
    ),
    "document without type": (
        "student.xml",
        '<Document type="BIRTH_CERT_RF">',
        "<Document>",
    ),
    "six countries": (
        "student.xml",
        "<Country>643</Country>\n  </Citizenship>",
        "<Country>643</Country>" + "<Country>001</Country>" * 5 + "</Citizenship>",
    ),
    "unknown element": ("student.xml", "<BirthPlace>", "<Nickname>Аня</Nickname><BirthPlace>"),
    "unknown attribute": ("student.xml", 'state="ACTIVE"', 'state="ACTIVE" school="5"'),
    "state outside the list": ("student.xml", 'state="ACTIVE"', 'state="ARCHIVED"'),
    "version zero": ("student.xml", 'version="3"', 'version="0"'),
    "id not a uuid": ("student.xml", 'id="83e01178-', 'id="x83e01178-'),
    "other namespace": ("student.xml", f'xmlns="{NS}"', 'xmlns="urn:kontingent:exchange:2"'),
    "timestamp without zone": (
        "packet-changes.xml",
        "<Timestamp>2026-09-01T10:00:00+03:00</Timestamp>",
        "<Timestamp>2026-09-01T10:00:00</Timestamp>",
    ),
    "packet id with spaces": (
        "packet-changes.xml",
        "<PacketID>6f1c2b7e-4d3a-4f6b-9c1e-2a5d8e7f9b10</PacketID>",
        "<PacketID>packet one</PacketID>",
    ),
    "packet id of 65": (
        "packet-changes.xml",
        "<PacketID>6f1c2b7e-4d3a-4f6b-9c1e-2a5d8e7f9b10</PacketID>",
        "<PacketID>" + "A" * 65 + "</PacketID>",
    ),
    "no header": ("packet-changes.xml", "<Header>", "<Header/><Header>"),
    "delete without reason": (
        "packet-changes.xml",
        'reason="приказ № 45 от 01.09.2026 (выбыл в другой регион)"',
        "",
    ),
    "delete with content": (
        "packet-changes.xml",
        'reason="приказ № 45 от 01.09.2026 (выбыл в другой регион)"/>',
        'reason="r"><LastName>X</LastName></DeleteStudent>',
    ),
    "unknown item": ("packet-changes.xml", "<DeleteStudent", "<MoveStudent/><DeleteStudent"),
    "event without student": (
        "packet-changes.xml",
        '<Event student="0b7c5a7e-2f7e-4a8e-9a52-1d2f3e4a5b6c" localId="127">',
        '<Event localId="127">',
    ),
    "event type outside the list": ("packet-changes.xml", "<Type>TRANSFER_OUT</Type>",
                                    "<Type>MOVE</Type>"),
    "event members out of order": (
        "packet-changes.xml",
        "<Level>OOO</Level>",
        "<Form>FULL_TIME</Form><Level>OOO</Level>",
    ),
    "event grade with a leading zero": ("packet-changes.xml", "<Grade>5</Grade>", "<Grade>05</Grade>"),
    "episode without its members": ("student.xml", "<Events>", "</Episode><Episode><Events>"),
    "episode status outside the list": ("student.xml", "<Status>ACTIVE</Status>",
                                        "<Status>OPEN</Status>"),
    "adapted not a boolean": ("student.xml", "<Adapted>false</Adapted>", "<Adapted>no</Adapted>"),
    "organization without ogrn": ("organization.xml", ' ogrn="1021600001235"', ""),
    "inn of 9 digits": ("organization.xml", "<Inn>1654001117</Inn>", "<Inn>165400111</Inn>"),
    "kpp in lower case": ("organization.xml", "<Kpp>165501001</Kpp>", "<Kpp>1655ab001</Kpp>"),
    "organization type outside the list": (
        "organization.xml", "<Type>SCHOOL</Type>", "<Type>UNIVERSITY</Type>"),
    "organization status outside the list": (
        "organization.xml", "<Status>ACTIVE</Status>", "<Status>CLOSED</Status>"),
    "license without number": (
        "organization.xml", "<Number>Л035-01234-16/00123456</Number>", ""),
    "organization address of a student's kind": (
        "organization.xml", '<Address kind="LEGAL">', '<Address kind="REGISTRATION">'),
    "organizations packet with Data before Header": (
        "packet-organizations.xml", "<Header>", "<Data/><Header>"),
    # Phase 3: the schema checks the shape of achievements, exams and certificates.
    "achievement without title": (
        "packet-records.xml",
        "<Title>Золотой знак отличия ГТО, V ступень</Title>",
        "",
    ),
    "achievement kind outside the list": (
        "packet-records.xml", '<Achievement kind="GTO">', '<Achievement kind="CHESS">'),
    "badge outside the list": ("packet-records.xml", "<Badge>GOLD</Badge>", "<Badge>ЗОЛОТО</Badge>"),
    "url without scheme": (
        "packet-records.xml",
        "<Url>https://olymp.tatar.example/diplomas/RE-2025-0417.pdf</Url>",
        "<Url>olymp.tatar.example/RE-2025-0417.pdf</Url>",
    ),
    "score not a number": ("packet-records.xml", "<Score>86</Score>", "<Score>86.5</Score>"),
    "negative mark": ("packet-records.xml", "<Mark>4</Mark>", "<Mark>-4</Mark>"),
    "passed not a boolean": ("packet-records.xml", "<Passed>true</Passed>", "<Passed>да</Passed>"),
    "exam without year": ("packet-records.xml", "<Year>2024</Year>", ""),
    "exams out of order": (
        "packet-records.xml",
        "<Score>31</Score>\n          <Mark>5</Mark>",
        "<Mark>5</Mark>\n          <Score>31</Score>",
    ),
    "certificate without type": (
        "packet-records.xml", '<Certificate type="ATTESTAT_OOO">', "<Certificate>"),
    "honors not a boolean": (
        "packet-records.xml", "<WithHonors>true</WithHonors>", "<WithHonors>yes</WithHonors>"),
    "eleven certificates": (
        "packet-records.xml",
        "</Certificate>\n      </Certificates>",
        "</Certificate>" + "<Certificate type=\"DIPLOMA_SPO\"><Number>1</Number>"
        "<IssuedOn>2025-06-30</IssuedOn></Certificate>" * 10 + "</Certificates>",
    ),
    "records without the organization": (
        "packet-records.xml",
        "<Organization>1021600001235</Organization>\n      <Achievements>",
        "<Achievements>",
    ),
    "status outside the list": ("receipt.xml", "<Status>PARTIAL</Status>", "<Status>DONE</Status>"),
    "item without result": ("receipt.xml", ' result="CREATED"', ""),
    "error without code": ("receipt.xml", ' code="SNILS_CHECKSUM"', ""),
    "totals without rejected": ("receipt.xml", ' rejected="1"', ""),
    "negative total": ("receipt.xml", 'created="1"', 'created="-1"'),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_broken_variants_are_invalid(schema, case):
    name, old, new = BROKEN[case]
    text = sample(name)
    assert old in text, f"{case}: the sample no longer has {old!r}"
    broken = text.replace(old, new, 1)
    assert valid(schema, text)
    assert not valid(schema, broken), case


def test_minimal_packet_and_receipt_are_valid(schema):
    header = (
        "<Header><PacketID>P-1</PacketID><SourceSystemID>S</SourceSystemID>"
        "<Timestamp>2026-09-01T07:00:00.123Z</Timestamp></Header>"
    )
    assert valid(schema, f'<Packet xmlns="{NS}">{header}<Data/></Packet>')
    assert valid(schema, f'<Receipt xmlns="{NS}"><Status>INQUEUE</Status></Receipt>')
    assert valid(
        schema,
        f'<Receipt xmlns="{NS}"><Status>REJECTED</Status>'
        '<Totals received="0" created="0" updated="0" unchanged="0" deleted="0" rejected="0"/>'
        '<Error code="MALFORMED">Строка 1: XML некорректен</Error></Receipt>',
    )
