"""Issue 12, the package queue and receipts (docs/xml-exchange.md):

- item 2: a package whose raw XML holds a health element is never queued, valid or not,
  and a queued package's bytes (package_chunks) are deleted when it finishes;
- item 8: receipts are stored in pages (KT_RECEIPT_PAGE_BYTES), a package that keeps
  failing ends FAILED after KT_PACKAGE_ATTEMPTS, and failing packages do not starve the
  queue (arrival order);
- item 21: PacketIDs are scoped by sender: another sender's PacketID is free, the same
  bytes from another sender never return the first sender's receipt, and receipts are
  read by their sender (and by the roles that read every receipt).
"""

import math
import os
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import assert_problem
from kt_data import SCHOOL_A, SCHOOL_B, student
from test_packages import (P, big_packet, package_store, packet, post, q, receipt,  # noqa: F401
                           student_xml, wait_receipt)

HEALTH = ('<Health><HealthGroup>II</HealthGroup><LegalBasis kind="CONSENT_WRITTEN">'
          "<ConsentRef>согласие № 1</ConsentRef></LegalBasis></Health>")  # valid by the XSD
ATTEMPTS = int(os.environ.get("KT_PACKAGE_ATTEMPTS", "3"))
PAGE_BYTES = int(os.environ.get("KT_RECEIPT_PAGE_BYTES", str(4 << 20)))


# --- item 2: health data never waits in the queue's store ---------------------------------


def with_health(doc, where):
    xml = student_xml(doc, "1")
    if where == "end":
        return xml.replace("</Student>", HEALTH + "</Student>")
    if where == "first":  # breaks the XSD: Health must follow Organization
        return xml.replace("<LastName>", HEALTH + "<LastName>", 1)
    return xml.replace("</Student>", "<HealthGroup>II</HealthGroup></Student>")  # no Health


@pytest.mark.parametrize("where,snils", [("end", "123"), ("first", None), ("bare", None)])
def test_a_large_package_with_an_invalid_health_item_is_not_queued(client, region_cert,
                                                                    package_store, where, snils):
    bad = student()
    if snils:
        bad["snils"] = snils  # a malformed СНИЛС: the item breaks the XSD
    items = [with_health(bad, where)] + [student_xml(student(), str(i)) for i in range(2, 602)]
    pid, body = packet(items)
    r = post(client, body, cert=region_cert, timeout=600)
    assert r.status_code == 200, r.text[:300]  # processed while the request waited
    status, totals, got = receipt(r)
    assert got[0]["result"] == "REJECTED" and got[0]["errors"][0][0] in ("XSD", "FORBIDDEN")
    assert totals["received"] == "601"
    assert package_store.chunks(pid) == 0


def test_a_queued_package_leaves_no_bytes_behind(client, region_cert, package_store):
    pid, body = big_packet(520)
    r = post(client, body, cert=region_cert)
    assert r.status_code == 202, r.text[:300]
    assert package_store.chunks(pid) >= 1
    status, totals, _ = wait_receipt(client, region_cert, pid)
    assert status == "PROCESSED" and totals["created"] == "520"
    assert package_store.chunks(pid) == 0


# --- item 8: paged receipts, a bounded number of attempts, arrival order -----------------


def test_a_receipt_is_stored_in_pages_and_served_whole(client, region_cert, package_store):
    # Items that break the XSD (no id, no reason) cost no store reads; each leaves an
    # Error in the receipt, so the receipt outgrows a page.
    n = max(520, PAGE_BYTES // 150)
    pid, body = packet([f'<DeleteStudent localId="{i}"/>' for i in range(1, n + 1)])
    assert post(client, body, cert=region_cert).status_code == 202
    status, totals, items = wait_receipt(client, region_cert, pid)
    assert status == "REJECTED" and totals["rejected"] == str(n)
    assert [int(i["index"]) for i in items] == list(range(1, n + 1))
    whole = client.get(f"{P}/{pid}", cert=region_cert).content
    reg = package_store.registration(pid)
    assert "receipt" not in reg
    pages = package_store.receipt_pages(pid)
    assert len(pages) == reg["receipt_pages"] == math.ceil(len(whole) / PAGE_BYTES) > 1
    assert all(len(p) <= PAGE_BYTES for p in pages)
    assert b"".join(pages) == whole
    again = post(client, body, cert=region_cert)  # the same bytes: the stored receipt
    assert again.status_code == 200 and again.content == whole


def poison(package_store, received_at):
    """A queued package whose stored bytes are not a package: every attempt fails."""
    pid = f"poison-{uuid.uuid4()}"
    package_store.insert(
        {"_id": f"test/{pid}", "packet_id": pid, "hash": "0" * 64, "status": "INQUEUE",
         "received_at": received_at, "source_system": "TEST-07", "chunks": 1,
         "principal": {"subject": "test-poison", "role": "region", "organization": "",
                       "auth": "certificate"}},
        [b"not xml at all"],
        # The result of an item applied before the bytes went bad: the FAILED receipt lists it.
        {1: {"result": "CREATED", "local_id": "1", "id": str(uuid.uuid4()), "version": 1}})
    return pid


def ended(client, cert, pid, timeout=600):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:  # the runner polls every second; each attempt fails at once
        r = client.get(f"{P}/{pid}", cert=cert)
        if r.status_code == 200:
            return r
        assert r.status_code == 202, r.text[:300]
        time.sleep(0.5)
    pytest.fail(f"package {pid} did not end within {timeout}s")


def test_failing_packages_end_failed_and_do_not_starve_the_queue(client, region_cert,
                                                                 package_store):
    # More poison than the runner looks at in one round (16), all ahead of a good package.
    poisoned = [poison(package_store, f"2000-01-01T00:00:{i:02d}.000Z") for i in range(20)]
    pid, body = big_packet(510)
    assert post(client, body, cert=region_cert).status_code == 202
    status, totals, _ = wait_receipt(client, region_cert, pid)
    assert status == "PROCESSED" and totals["created"] == "510"
    for bad in poisoned:
        r = ended(client, region_cert, bad)
        root = ET.fromstring(r.content)
        assert root.findtext(q("PacketID")) == bad
        assert root.findtext(q("Status")) == "FAILED"
        # The last attempt's own code: bytes that do not parse are a whole-package error.
        assert root.find(q("Error")).get("code") in ("MALFORMED", "XSD")
        applied = root.find(q("Items"))
        assert [(i.get("index"), i.get("result")) for i in applied] == [("1", "CREATED")]
        assert root.find(q("Totals")).get("created") == "1"
        reg = package_store.registration(bad)
        assert reg["status"] == "FAILED" and reg["attempts"] == ATTEMPTS
        assert package_store.chunks(bad) == 0


# --- item 21: PacketIDs are the sender's --------------------------------------------------


def test_another_senders_packet_id_is_free(client, region_cert, token):
    school = token("school", org=SCHOOL_A, sub=f"school-a-{uuid.uuid4()}")
    pid, school_body = packet([student_xml(student(org=SCHOOL_A))])
    s_status, _, s_items = receipt(post(client, school_body, token=school))
    assert s_status == "PROCESSED"
    # The regional system's own package under the PacketID the school took first.
    _, region_body = packet([student_xml(student(org=SCHOOL_B))], packet_id=pid)
    status, totals, items = receipt(post(client, region_body, cert=region_cert))
    assert status == "PROCESSED" and items[0]["result"] == "CREATED"
    assert items[0]["id"] != s_items[0]["id"]
    # Each reads its own receipt under the one PacketID.
    assert receipt(client.get(f"{P}/{pid}", token=school))[2][0]["id"] == s_items[0]["id"]
    assert receipt(client.get(f"{P}/{pid}", cert=region_cert))[2][0]["id"] == items[0]["id"]
    # Within one sender the PacketID still means one content.
    _, other = packet([student_xml(student(org=SCHOOL_A))], packet_id=pid)
    assert_problem(post(client, other, token=school), 409, "DUPLICATE_PACKET")


def test_the_same_bytes_from_another_sender_are_its_own_package(client, region_cert, token):
    school = token("school", org=SCHOOL_A, sub=f"school-a-{uuid.uuid4()}")
    pid, body = packet([student_xml(student(org=SCHOOL_A))])
    first = post(client, body, cert=region_cert)
    _, _, items = receipt(first)
    assert items[0]["result"] == "CREATED"
    again = post(client, body, token=school)
    assert again.content != first.content  # never the regional system's receipt
    status, _, mine = receipt(again)
    assert mine[0]["result"] == "UNCHANGED" and mine[0]["id"] == items[0]["id"]
    assert post(client, body, token=school).content == again.content  # its own replay


def test_receipts_are_read_by_their_sender_and_the_roles_that_read_all(client, region_cert,
                                                                       token):
    school_a = token("school", org=SCHOOL_A, sub=f"school-a-{uuid.uuid4()}")
    other_a = token("school", org=SCHOOL_A, sub=f"school-a-{uuid.uuid4()}")
    school_b = token("school", org=SCHOOL_B, sub=f"school-b-{uuid.uuid4()}")
    pid, body = packet([student_xml(student(org=SCHOOL_A))])
    mine = post(client, body, token=school_a).content
    assert_problem(client.get(f"{P}/{pid}", token=school_b), 404, "NOT_FOUND")
    assert client.get(f"{P}/{pid}", token=other_a).content == mine  # its own organisation
    for reader in (token("auditor"), token("ministry"), token("admin")):
        assert client.get(f"{P}/{pid}", token=reader).content == mine
    assert client.get(f"{P}/{pid}", cert=region_cert).content == mine
    # Two senders under one PacketID: a reader who sent neither names the sender.
    _, region_body = packet([student_xml(student(org=SCHOOL_B))], packet_id=pid)
    theirs = post(client, region_body, cert=region_cert).content
    auditor = token("auditor")
    assert_problem(client.get(f"{P}/{pid}", token=auditor), 409, "DUPLICATE_PACKET")
    subject = client.get("/api/v1/whoami", cert=region_cert).json()["subject"]
    r = client.get(f"{P}/{pid}", token=auditor, params={"sender": subject})
    assert r.status_code == 200 and r.content == theirs
    assert client.get(f"{P}/{pid}", cert=region_cert).content == theirs
    assert client.get(f"{P}/{pid}", token=school_a).content == mine
