"""Writes a valid XML package of N distinct students to standard output (bench/ingest),
preceded by their organisation (a student's organisation must exist and be ACTIVE)."""

import sys
import uuid


def snils(n):
    nine = f"{2_000_000 + n:09d}"
    s = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    check = s if s < 100 else 0 if s in (100, 101) else (0 if s % 101 == 100 else s % 101)
    return f"{nine}{check:02d}"


def ogrn(twelve):
    return f"{twelve}{int(twelve) % 11 % 10}"


def main():
    n = int(sys.argv[1])
    org = ogrn("102770013219")
    out = sys.stdout
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<Packet xmlns="urn:kontingent:exchange:1">'
              f"<Header><PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>BENCH</SourceSystemID>"
              "<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header><Data>\n")
    out.write(f'<Organization ogrn="{org}"><Inn>1654001117</Inn><Kpp>165501001</Kpp>'
              "<FullName>МБОУ «Школа для измерений»</FullName><ShortName>Школа</ShortName>"
              "<Type>SCHOOL</Type><Oktmo>92701000</Oktmo><Addresses><Address kind=\"LEGAL\">"
              "<Text>г. Казань</Text></Address></Addresses><License><Number>Л-1</Number>"
              "<IssuedOn>2016-08-01</IssuedOn></License><Status>ACTIVE</Status>"
              "</Organization>\n")
    series = ["I-АБ", "II-ВГ", "III-ДЕ", "IV-ЖЗ", "V-ИК", "VI-ЛМ", "VII-НО", "VIII-ПР"]
    for i in range(n):
        out.write(
            f'<Student localId="{i + 1}"><LastName>Тестова</LastName><FirstName>Анна</FirstName>'
            "<MiddleName>Сергеевна</MiddleName><Sex>F</Sex><BirthDate>2015-03-14</BirthDate>"
            f"<BirthPlace>г. Казань</BirthPlace><SNILS>{snils(i)}</SNILS>"
            '<Citizenship category="RF"><Country>643</Country></Citizenship><Documents>'
            f'<Document type="BIRTH_CERT_RF"><Series>{series[i // 1000000 % 8]}</Series>'
            f"<Number>{i % 1000000:06d}</Number><Issuer>Отдел ЗАГС</Issuer>"
            "<IssuedOn>2015-03-20</IssuedOn></Document></Documents><Addresses>"
            '<Address kind="REGISTRATION"><Text>Республика Татарстан, г. Казань, ул. Баумана, '
            f"д. {i % 100 + 1}, кв. {i % 300 + 1}</Text><RegionCode>16</RegionCode></Address>"
            '</Addresses><Representatives><Representative kind="MOTHER"><LastName>Тестова'
            "</LastName><FirstName>Мария</FirstName><Phone>+79001234567</Phone></Representative>"
            f"</Representatives><Organization>{org}</Organization></Student>\n")
    out.write("</Data></Packet>\n")


main()
