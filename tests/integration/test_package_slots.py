"""KT_PACKAGE_SLOTS: a worker holds at most that many package bodies at once (2 by default);
one more is refused with 503 UNAVAILABLE and Retry-After, and stores nothing.

A package holds its slot while it is processed inline: KT_TEST_SLOT_STUDENTS (150; 450 with
KT_TEST_FULL=1) students each take long enough that the twelve sent at once overlap."""

import concurrent.futures
import uuid

from test_packages import packet, student_xml
from kt_data import size, student

P = "/api/v1/packages"
XML = {"Content-Type": "application/xml"}


def test_packages_past_the_slots_wait_outside(client, region_cert):
    # 2 workers x 2 slots; 12 packages of n students each (inline, seconds each) at once.
    n = size("KT_TEST_SLOT_STUDENTS", 150, 450)
    bodies = [packet([student_xml(student(), str(i)) for i in range(n)], str(uuid.uuid4()))
              for _ in range(12)]
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(
            lambda pb: (pb[0], client.post(P, cert=region_cert, data=pb[1], headers=XML,
                                           timeout=600)), bodies))
    refused = [(pid, r) for pid, r in answers if r.status_code == 503]
    accepted = [(pid, r) for pid, r in answers if r.status_code == 200]
    assert len(refused) + len(accepted) == len(bodies), [r.status_code for _, r in answers]
    assert accepted and refused
    for pid, r in refused:
        assert r.json()["code"] == "UNAVAILABLE"
        assert r.headers["Retry-After"] == "5"
        assert client.get(f"{P}/{pid}", cert=region_cert).status_code == 404
    pid, body = next(pb for pb in bodies if pb[0] == refused[0][0])
    again = client.post(P, cert=region_cert, data=body, headers=XML, timeout=600)
    assert again.status_code == 200, again.text[:300]
