#!/usr/bin/env python3
"""bench/make_progress.py YEAR IDS_FILE [SUBJECTS] [PERIOD] > package.xml

A school term's progress package, as an electronic journal sends it: one <Progress> item
per student id of IDS_FILE (one per line), each with SUBJECTS (15) marks of PERIOD (Q1) and
the period's absences. Marks are drawn from a fixed seed, so two runs send the same bytes."""
import random
import sys
import uuid

SUBJECTS = ["RUS", "LIT", "FL", "ALG", "GEOM", "PROB", "INF", "HIST", "SOC", "GEOG", "PHYS",
            "CHEM", "BIO", "PE", "OBZR", "TECH", "MUS", "ART", "FL2", "IND"]
MARKS = ["5", "5", "4", "4", "4", "3", "3", "2"]


def main():
    year, ids_file = sys.argv[1], sys.argv[2]
    n_subjects = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    period = sys.argv[4] if len(sys.argv) > 4 else "Q1"
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    rng = random.Random(15)
    out = sys.stdout
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<Packet xmlns="urn:kontingent:exchange:1"><Header>'
              f"<PacketID>{uuid.uuid4()}</PacketID><SourceSystemID>JOURNAL-BENCH</SourceSystemID>"
              "<Timestamp>2026-11-01T10:00:00+03:00</Timestamp></Header><Data>\n")
    for i, sid in enumerate(ids):
        marks = "".join(f'<Mark subject="{s}" period="{period}" mark="{rng.choice(MARKS)}"/>'
                        for s in SUBJECTS[:n_subjects])
        days = rng.randint(0, 12)
        out.write(f'<Progress student="{sid}" year="{year}" localId="j{i}"><Grade>8</Grade>'
                  f"<Scheme>QUARTERS</Scheme><Marks>{marks}</Marks><Absences>"
                  f'<Absence period="{period}" days="{days}" lessons="{days * 6}" '
                  f'daysIllness="{days // 2}"/></Absences></Progress>\n')
    out.write("</Data></Packet>\n")


if __name__ == "__main__":
    main()
