"""What the store keeps of packages, read (or tampered with) behind the service's back, on
either backend (store/packages.h): the tests of the package queue look at chunks, receipt
pages, item results and leases on MongoDB (pymongo) and on SQLite (sqlite3) alike.

Keys are "<sender tag>/<PacketID>" on both. MongoDB keeps each row as a document whose _id
is "<key>:<n>"; SQLite keeps them in tables keyed (key, n), with the registration and the
item results as BSON blobs. The fixture package_store (test_packages.py) gives the view of
the stack's backend.
"""

import re

import bson  # pymongo's


def _packet_of(key):
    return key.split("/", 1)[1]


class MongoPackages:
    def __init__(self, db):
        self.db = db

    def _ids(self, collection, pid):
        """The documents of collection whose _id is "<key of pid>:<n>"."""
        return [d for d in self.db[collection].find({"_id": {"$regex": f"/{re.escape(pid)}:"}})
                if _packet_of(d["_id"].rsplit(":", 1)[0]) == pid]

    def chunks(self, pid):
        return len(self._ids("package_chunks", pid))

    def items(self, pid):
        return len(self._ids("package_items", pid))

    def registration(self, pid):
        found = list(self.db["packages"].find({"packet_id": pid}))
        assert len(found) == 1, found
        return found[0]

    def receipt_pages(self, pid):
        return [bytes(d["data"]) for d in sorted(self._ids("package_receipts", pid),
                                                  key=lambda d: d["_id"])]

    def lease_owner(self, pid):
        leases = sorted(self._ids("package_leases", pid), key=lambda d: d["_id"])
        return leases[-1]["owner"] if leases else None

    def insert(self, registration, chunks, items):
        """A registration as the service writes it, its chunks (bytes) and item results."""
        key = registration["_id"]
        self.db["packages"].insert_one(registration)
        for n, data in enumerate(chunks):
            self.db["package_chunks"].insert_one({"_id": f"{key}:{n:06d}", "data": data})
        for index, result in items.items():
            self.db["package_items"].insert_one({"_id": f"{key}:{index:08d}", **result})

    def versions(self, pid, ids):
        """How many versions each student has from the package."""
        found = {}
        for v in self.db["student_versions"].find({"source.package_id": pid},
                                                  {"student_id": 1}):
            found[v["student_id"]] = found.get(v["student_id"], 0) + 1
        return found

    def feed_entries(self, ids):
        return self.db["changes"].count_documents({"student_id": {"$in": list(ids)}})


class SqlitePackages:
    def __init__(self, db):
        self.db = db

    # The PacketID of a key: what follows the sender tag's "/".
    _PACKET = "substr(key, instr(key, '/') + 1) = ?"

    def _count(self, table, pid):
        return self.db.execute(f"SELECT count(*) FROM {table} WHERE {self._PACKET}",
                               (pid,)).fetchone()[0]

    def chunks(self, pid):
        return self._count("package_chunks", pid)

    def items(self, pid):
        return self._count("package_items", pid)

    def registration(self, pid):
        rows = self.db.execute("SELECT doc FROM packages WHERE packet_id = ?", (pid,)).fetchall()
        assert len(rows) == 1, rows
        return bson.decode(rows[0][0])

    def receipt_pages(self, pid):
        rows = self.db.execute(f"SELECT data FROM package_receipts WHERE {self._PACKET}"
                               " ORDER BY key, page", (pid,)).fetchall()
        return [bytes(r[0]) for r in rows]

    def lease_owner(self, pid):
        row = self.db.execute(f"SELECT owner FROM package_leases WHERE {self._PACKET}",
                              (pid,)).fetchone()
        return row[0] if row else None

    def insert(self, registration, chunks, items):
        key, p = registration["_id"], registration["principal"]
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO packages (key, packet_id, hash, status, received_at, org, sender, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, registration["packet_id"], registration["hash"], registration["status"],
             registration["received_at"], p["organization"], p["subject"],
             bson.encode(registration)))
        for n, data in enumerate(chunks):
            self.db.execute("INSERT INTO package_chunks (key, n, data) VALUES (?, ?, ?)",
                            (key, n, data))
        for index, result in items.items():
            doc = {"_id": f"{key}:{index:08d}", **result}
            self.db.execute("INSERT INTO package_items (key, item, result) VALUES (?, ?, ?)",
                            (key, index, bson.encode(doc)))
        self.db.execute("COMMIT")

    def versions(self, pid, ids):
        """How many versions each of ids has (each was created by the package, so all of
        its versions are the package's): the primary key (id, version) counts them."""
        found = {}
        ids = list(ids)
        for at in range(0, len(ids), 500):
            part = ids[at:at + 500]
            marks = ",".join("?" * len(part))
            for sid, k in self.db.execute(f"SELECT id, count(*) FROM student_versions"
                                          f" WHERE id IN ({marks}) GROUP BY id", part):
                found[sid] = k
        return found

    def feed_entries(self, ids):
        total, ids = 0, list(ids)
        for at in range(0, len(ids), 500):
            part = ids[at:at + 500]
            marks = ",".join("?" * len(part))
            total += self.db.execute(f"SELECT count(*) FROM changes WHERE student_id IN ({marks})",
                                     part).fetchone()[0]
        return total
