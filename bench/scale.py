"""bench/scale's client: times the registry's endpoints through nginx over one TLS
connection (kept alive), and prints the table of every size measured.

    scale.py measure URL TOKEN IDS SIZE OUT.json   time every endpoint on the first SIZE ids
    scale.py report SIZES_FILE                      the table: p50/p95 per size, growth, targets

Knobs (environment): BENCH_SCALE_REQUESTS (100) requests per endpoint and size,
BENCH_SCALE_REPORTS (3) runs of each report. Setup requests (reading the sampled
students' histories, walking a school's list to a deep page) are not timed.
"""

import http.client
import json
import os
import random
import ssl
import statistics
import sys
import time
import urllib.parse

REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "100"))
REPORTS = int(os.environ.get("BENCH_SCALE_REPORTS", "3"))
DEEP_PAGE = 8  # the ninth page of 50 of a school's 500 students

# (name, target p50 at the largest size, what it is) in print order.
ENDPOINTS = [
    ("student", None, "GET /students/{id}"),
    ("history", None, "GET /students/{id}/history"),
    ("version", None, "GET /students/{id}/versions/{n}"),
    ("as_of", None, "GET /students/{id}?as_of="),
    ("search_name", 20, "GET /students?last_name&first_name&birth_date"),
    ("school_first", 20, "GET /students?organization (page 1 of 50)"),
    ("school_deep", 20, f"GET /students?organization (page {DEEP_PAGE + 1} of 50)"),
    ("audit_student", 20, "GET /audit/access?student="),
    ("audit_subject", 20, "GET /audit/access?subject="),
    ("audit_changes", 20, "GET /audit/changes?subject="),
    ("feed_start", 20, "GET /changes?since=0 (100)"),
    ("feed_middle", 20, "GET /changes?since=<middle> (100)"),
    ("contingent", 5000, "GET /reports/contingent (6 dimensions)"),
    ("migration", None, "GET /reports/migration"),
]


class Client:
    """One kept-alive TLS connection to nginx; reconnects when nginx closes it."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl._create_unverified_context()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=900)
        self.conn.connect()

    def get(self, path, params=None):
        """(status, parsed body or None, seconds)."""
        if params:
            path += "?" + urllib.parse.urlencode(params)
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", "/api/v1" + path, headers=self.headers)
                r = self.conn.getresponse()
                body = r.read()
                seconds = time.perf_counter() - t0
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return r.status, parsed, seconds


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def timed(c, requests):
    """requests: a list of (path, params); → {p50, p95, n, errors} in ms."""
    times, errors = [], 0
    for path, params in requests:
        status, body, seconds = c.get(path, params)
        if status != 200:
            errors += 1
            if errors <= 2:
                print(f"  {path} {params}: HTTP {status} {str(body)[:200]}", file=sys.stderr)
        times.append(seconds * 1000)
    if not times:
        return {"n": 0, "errors": 0}
    return {"n": len(times), "errors": errors, "p50": statistics.median(times),
            "p95": pct(times, 0.95)}


def setup(c, ids):
    """Per sampled student: name, birth date, school, a time between its versions."""
    out = []
    for sid in ids:
        s1, st, _ = c.get(f"/students/{sid}")
        s2, hist, _ = c.get(f"/students/{sid}/history", {"limit": 50})
        if s1 != 200 or s2 != 200 or not hist["items"]:
            print(f"  setup {sid}: HTTP {s1}/{s2}", file=sys.stderr)
            continue
        times = sorted(h["time"] for h in hist["items"])
        out.append({"id": sid, "last_name": st["last_name"], "first_name": st["first_name"],
                    "birth_date": st["birth_date"], "organization": st["organization"],
                    "versions": len(times), "as_of": times[len(times) // 2]})
    return out


def deep_cursors(c, schools):
    """The cursor of page DEEP_PAGE + 1 of each school's list (walked, untimed)."""
    cursors = []
    for org in schools:
        cursor = None
        for _ in range(DEEP_PAGE):
            params = {"organization": org, "limit": 50}
            if cursor:
                params["cursor"] = cursor
            status, body, _ = c.get("/students", params)
            cursor = body.get("next_cursor") if status == 200 and body else None
            if not cursor:
                break
        if cursor:
            cursors.append((org, cursor))
    return cursors


def measure(url, token, ids_file, size, out):
    with open(ids_file) as f:
        ids = [line.strip() for _, line in zip(range(size), f)]
    rnd = random.Random(size)
    c = Client(url, token)
    sample = setup(c, rnd.sample(ids, min(REQUESTS, len(ids))))
    schools = sorted({s["organization"] for s in sample})
    cursors = deep_cursors(c, schools[:10])
    _, feed, _ = c.get("/changes", {"since": 0, "limit": 1})
    middle = 5 * size  # ten versions each: the feed's middle
    pick = lambda xs: [xs[i % len(xs)] for i in range(REQUESTS)]
    r = {}
    r["student"] = timed(c, [(f"/students/{s['id']}", None) for s in sample])
    r["history"] = timed(c, [(f"/students/{s['id']}/history", None) for s in sample])
    r["version"] = timed(c, [(f"/students/{s['id']}/versions/{rnd.randint(1, s['versions'])}", None)
                             for s in sample])
    r["as_of"] = timed(c, [(f"/students/{s['id']}", {"as_of": s["as_of"]}) for s in sample])
    r["search_name"] = timed(c, [("/students", {k: s[k] for k in
                                                ("last_name", "first_name", "birth_date")})
                                 for s in sample])
    r["school_first"] = timed(c, [("/students", {"organization": o, "limit": 50})
                                  for o in pick(schools)])
    r["school_deep"] = timed(c, [("/students", {"organization": o, "limit": 50, "cursor": k})
                                 for o, k in pick(cursors)] if cursors else [])
    r["audit_student"] = timed(c, [("/audit/access", {"student": s["id"]}) for s in sample])
    r["audit_subject"] = timed(c, [("/audit/access", {"subject": f"reader-{i % 100:02d}"})
                                   for i in range(REQUESTS)])
    r["audit_changes"] = timed(c, [("/audit/changes", {"subject": f"writer-{i % 50:02d}"})
                                   for i in range(REQUESTS)])
    r["feed_start"] = timed(c, [("/changes", {"since": 0, "limit": 100})] * REQUESTS)
    r["feed_middle"] = timed(c, [("/changes", {"since": middle + i, "limit": 100})
                                 for i in range(REQUESTS)])
    r["contingent"] = timed(c, [("/reports/contingent", {
        "as_of": "2026-09-20", "group_by": "organization,grade,sex,age,citizenship,form"})] * REPORTS)
    r["migration"] = timed(c, [("/reports/migration", {"from": "2025-09-01", "to": "2026-08-31"})]
                           * REPORTS)
    r["_feed_ok"] = bool(feed and feed.get("items"))
    with open(out, "w") as f:
        json.dump(r, f)


def report(sizes_file):
    """sizes_file: lines "SIZE RESULTS.json SEED_RATE DISK_BYTES VERSIONS WAL_BYTES LOAD…"."""
    runs = []
    for line in open(sizes_file):
        size, path, rate, disk, versions, wal, *load = line.split()
        runs.append((int(size), json.load(open(path)), float(rate), int(disk), int(versions),
                     int(wal), " ".join(load)))
    first, last = runs[0], runs[-1]
    print()
    head = f"{'p50 / p95 ms':46}" + "".join(f"{s:>20,}" for s, *_ in runs)
    ratio = f"p50 {last[0] // 1000:,}k/{first[0] // 1000:,}k" if first[0] >= 1000 else "p50 growth"
    print(head + f"  {ratio:>14}  target")
    for name, target, label in ENDPOINTS:
        cells, ok = "", True
        for _, r, *_ in runs:
            m = r.get(name, {})
            if "p50" in m:
                bad = f" ({m['errors']} err)" if m["errors"] else ""
                cells += f"{m['p50']:>10.1f} /{m['p95']:>7.1f}{bad}".rjust(20)
            else:
                cells += f"{'—':>20}"
                ok = False
        growth = ""
        if ok and len(runs) > 1 and first[1][name]["p50"] > 0:
            growth = f"{last[1][name]['p50'] / first[1][name]['p50']:.2f}×"
        goal = "p50 growth ≤ 1.3×"
        if target:
            goal += f", p50 ≤ {target / 1000:g} s at 1 M" if target >= 1000 else \
                f", p50 ≤ {target} ms at 1 M"
        print(f"{label:46}{cells}  {growth:>14}  {goal}")
    print()
    for size, _, rate, disk, versions, wal, load in runs:
        print(f"{size:>9,} students: {versions:,} versions, store files {disk / 2**20:,.0f} MB = "
              f"{disk / versions:,.0f} bytes per version (target ≤ 5 KB); "
              f"seeded at {rate:,.0f} versions/s; load {load} when timed")
        print(f"{'':20}write-ahead log left by the running stack after the seed: "
              f"{wal / 2**20:,.0f} MB")


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
