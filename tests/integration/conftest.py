"""Fixtures for the integration tests.

The tests drive the stack that scripts/test starts (kontingent-fcgi built with ASan+UBSan,
nginx, and the store: an SQLite file, or FerretDB) through nginx, as clients would.
scripts/test passes it in:

    KT_BASE_URL     https://127.0.0.1:<port>
    KT_TEST_VAR     the stack's state directory: tls/, keys/, log/, run/, data/
    KT_CTL          kontingentctl of the same build
    KT_STORE        sqlite (the default) or mongodb
    KT_REPO, KT_SQLITE, KT_FERRET_SOCKET, MONGODB_URI, KT_DB, KT_PID_FILE, KT_WORKERS,
    KT_THREADS

A test that only makes sense on one backend says so: @pytest.mark.store("mongodb",
reason="...") skips it on the other (a test that reads the store behind the service's
back, with pymongo or sqlite3, is one). Run one test with the stack up:
scripts/test -- -k NAME (KT_STORE=mongodb scripts/test -- ... on FerretDB).
"""

import datetime
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest
import requests
import urllib3
import zoneinfo

_REQUIRED = ("KT_BASE_URL", "KT_TEST_VAR", "KT_CTL")


def pytest_configure(config):
    # pytest resets warning filters around each test: this one must be its own.
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")
    config.addinivalue_line(
        "markers",
        "store(name, reason): the test only makes sense on that backend (KT_STORE); "
        "skipped, with the reason, on the other",
    )
    missing = [name for name in _REQUIRED if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(
            f"{', '.join(missing)} not set: the integration tests run against the stack "
            "that scripts/test starts. Run scripts/test (one test: scripts/test -- -k NAME)."
        )


def pytest_runtest_setup(item):
    for mark in item.iter_markers("store"):
        if mark.args[0] not in ("sqlite", "mongodb"):
            raise pytest.UsageError(f"{item.nodeid}: store({mark.args[0]!r}): sqlite or mongodb")
        if mark.args[0] != STORE:
            pytest.skip(f"{mark.args[0]} only: {mark.kwargs.get('reason', '(no reason given)')}")


BASE_URL = os.environ.get("KT_BASE_URL", "").rstrip("/")
TEST_VAR = pathlib.Path(os.environ.get("KT_TEST_VAR", "."))
CTL = os.environ.get("KT_CTL", "kontingentctl")
STORE = os.environ.get("KT_STORE", "sqlite")
# The SQLite store's file (KT_STORE=sqlite), as scripts/lib.sh settles it.
SQLITE_PATH = pathlib.Path(
    os.environ.get("KT_SQLITE")
    or TEST_VAR / "data" / (os.environ.get("KT_DB", "kontingent") + ".db")
)
# FerretDB listens on a unix socket only (docs/operations.md, "Ports and processes").
FERRET_SOCKET = os.environ.get("KT_FERRET_SOCKET", str(TEST_VAR / "run" / "ferretdb" / "ferretdb.sock"))
MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://" + FERRET_SOCKET.replace("/", "%2F") + "/")
DB_NAME = os.environ.get("KT_DB", "kontingent")
PID_FILE = pathlib.Path(os.environ.get("KT_PID_FILE", TEST_VAR / "run" / "kontingent-fcgi.pid"))
WORKERS = int(os.environ.get("KT_WORKERS", "2"))
THREADS = int(os.environ.get("KT_THREADS", "8"))
# The stack's region time zone (scripts/lib.sh exports it): its day is "today" of every date
# rule (docs/api.md, "Times and dates").
TIMEZONE = zoneinfo.ZoneInfo(os.environ.get("KT_TIMEZONE") or "Europe/Moscow")


def region_today():
    """The date in the region's time zone now."""
    return datetime.datetime.now(TIMEZONE).date()


def region_day_end(date):
    """The last millisecond of the region's day date ("YYYY-MM-DD") as the stored UTC time."""
    start = datetime.datetime.fromisoformat(date).replace(tzinfo=TIMEZONE) + datetime.timedelta(days=1)
    end = start.astimezone(datetime.timezone.utc) - datetime.timedelta(milliseconds=1)
    return end.strftime("%Y-%m-%dT%H:%M:%S.") + f"{end.microsecond // 1000:03d}Z"
TIMEOUT = 30


# --- kontingentctl -----------------------------------------------------------------------


def run_ctl(*args, env=None, check=True, input=None, timeout=120):
    """Runs kontingentctl with the stack's KT_VAR; returns the CompletedProcess.

    With check (the default) a non-zero exit fails the test, showing stderr."""
    full_env = dict(os.environ, KT_VAR=str(TEST_VAR))
    full_env.update(env or {})
    proc = subprocess.run(
        [CTL, *map(str, args)],
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"kontingentctl {' '.join(map(str, args))} exited with {proc.returncode}:\n"
            f"{proc.stderr}",
            pytrace=False,
        )
    return proc


def ctl_stdout(*args, **kwargs):
    """kontingentctl's standard output; a failure fails the test."""
    return run_ctl(*args, **kwargs).stdout


def issue_token(role, org=None, ttl="1h", sub=None, scope=None):
    """A bearer token from `kontingentctl token issue`; scope is a string or a list."""
    args = ["token", "issue", "--role", role, "--ttl", ttl]
    if org is not None:
        args += ["--org", org]
    if sub is not None:
        args += ["--sub", sub]
    if scope is not None:
        for s in [scope] if isinstance(scope, str) else scope:
            args += ["--scope", s]
    return ctl_stdout(*args).strip()


@pytest.fixture(scope="session")
def ctl():
    """ctl(*args, env=None, check=True, input=None) -> stdout of kontingentctl."""
    return ctl_stdout


@pytest.fixture(scope="session")
def token():
    """token(role, org=None, ttl='1h', sub=None, scope=None) -> a signed bearer token."""
    return issue_token


# --- HTTP --------------------------------------------------------------------------------


class Client:
    """Requests to the stack: paths are relative to KT_BASE_URL, TLS is not verified,
    a bearer token and a client certificate may be given per client or per request.

        client.get("/api/v1/health")
        client.with_token(token("admin")).post("/api/v1/students", json=doc)
        client.get(path, token=t, headers={"If-Match": '"3"'}, cert=region_cert)
    """

    def __init__(self, base_url=BASE_URL, token=None, cert=None, headers=None, session=None):
        self.base_url = base_url
        self.token = token
        self.cert = cert
        self.headers = dict(headers or {})
        self.session = session or requests.Session()

    def with_token(self, token):
        return Client(self.base_url, token, self.cert, self.headers, self.session)

    def with_cert(self, cert):
        return Client(self.base_url, self.token, cert, self.headers, self.session)

    def with_headers(self, **headers):
        return Client(
            self.base_url, self.token, self.cert, {**self.headers, **headers}, self.session
        )

    def url(self, path):
        return path if path.startswith(("https://", "http://")) else self.base_url + path

    def request(self, method, path, *, token=None, cert=None, headers=None, **kwargs):
        h = dict(self.headers)
        bearer = token if token is not None else self.token
        if bearer:
            h["Authorization"] = f"Bearer {bearer}"
        h.update(headers or {})
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("verify", False)
        client_cert = cert if cert is not None else self.cert
        if client_cert is not None:
            kwargs["cert"] = client_cert
        return self.session.request(method, self.url(path), headers=h, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def head(self, path, **kwargs):
        return self.request("HEAD", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def close(self):
        self.session.close()


@pytest.fixture(scope="session")
def base_url():
    return BASE_URL


@pytest.fixture
def session():
    """A requests.Session that does not verify the stack's self-signed certificate."""
    s = requests.Session()
    s.verify = False
    yield s
    s.close()


@pytest.fixture
def client(session):
    """A Client without credentials; see Client for tokens and certificates."""
    return Client(BASE_URL, session=session)


def assert_problem(resp, status, code=None):
    """resp is an RFC 9457 problem+json answer with this status (and machine code);
    returns the parsed body."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/problem+json"), ctype
    body = resp.json()
    assert body.get("status") == status, body
    if code is not None:
        assert body.get("code") == code, body
    assert body.get("request_id") == resp.headers.get("X-Request-Id"), body
    return body


# --- TLS material ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_var():
    """The stack's state directory (pathlib.Path)."""
    return TEST_VAR


@pytest.fixture(scope="session")
def server_ca():
    """The stack's self-signed server certificate, usable as verify=."""
    return str(TEST_VAR / "tls" / "server.crt")


@pytest.fixture(scope="session")
def region_cert():
    """(cert, key) of the regional system MUNICIPAL-EDU-07, issued by the trusted client CA
    and mapped to role region in tls/clients.map."""
    return (str(TEST_VAR / "tls" / "region-client.crt"), str(TEST_VAR / "tls" / "region-client.key"))


@pytest.fixture(scope="session")
def untrusted_cert():
    """(cert, key) with the same subject as region_cert, issued by a CA nginx does not trust."""
    return (
        str(TEST_VAR / "tls" / "untrusted-client.crt"),
        str(TEST_VAR / "tls" / "untrusted-client.key"),
    )


# --- processes ---------------------------------------------------------------------------


def _proc_stat(pid):
    """(state, ppid) of a process, or None when there is none."""
    try:
        text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def pid_alive(pid):
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def wait_until(predicate, timeout=TIMEOUT, interval=0.05, what="condition"):
    """Polls predicate until it returns something true (and returns that), or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def _read_pid(path):
    try:
        return int(pathlib.Path(path).read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def master_pid():
    """The kontingent-fcgi master's pid (KT_PID_FILE, else the one scripts/test started)."""
    for path in (PID_FILE, TEST_VAR / "run" / "started" / "kontingent-fcgi.pid"):
        pid = _read_pid(path)
        if pid is not None and pid_alive(pid):
            return pid
    pytest.fail(f"no running kontingent-fcgi master (pid file {PID_FILE})", pytrace=False)


def worker_pids():
    """Pids of the master's live children (its workers), sorted."""
    master = master_pid()
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(entry.name)
            if stat is not None and stat[1] == master and stat[0] not in ("Z", "X"):
                pids.append(int(entry.name))
    return sorted(pids)


def wait_for_workers(count=WORKERS, exclude=(), timeout=TIMEOUT):
    """Waits until the master has `count` live workers, none of them in exclude (pids of
    workers killed by the test); returns their pids."""
    excluded = set(exclude)

    def ready():
        pids = worker_pids()
        return pids if len(pids) == count and not excluded & set(pids) else None

    return wait_until(ready, timeout, what=f"{count} kontingent-fcgi workers")


def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


_FERRET_PID = TEST_VAR / "run" / "started" / "ferretdb.pid"
_FERRET_SCRIPT = TEST_VAR / "run" / "ferretdb.sh"
_store_children = {}


def _unix_socket_open(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(0.5)
        return s.connect_ex(path) == 0


def _ferret_running():
    return _unix_socket_open(FERRET_SOCKET)


def _ferret_stop(timeout=15):
    """Stops FerretDB (SIGTERM, then SIGKILL) and waits until its socket is closed."""
    pid = _read_pid(_FERRET_PID)
    if pid is not None and pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    child = _store_children.pop(pid, None)
    if child is not None:
        child.wait(timeout)
    _FERRET_PID.unlink(missing_ok=True)
    wait_until(lambda: not _ferret_running(), timeout, what="FerretDB's socket to close")


def _ferret_start(timeout=30):
    """Starts FerretDB again with the command line scripts/test used (run/ferretdb.sh, same
    socket and data) and waits until it accepts connections; no-op when it runs."""
    if _ferret_running():
        return
    child = subprocess.Popen(
        [str(_FERRET_SCRIPT)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _store_children[child.pid] = child
    _FERRET_PID.write_text(f"{child.pid}\n")
    wait_until(_ferret_running, timeout, what="FerretDB to accept connections")


# The SQLite store has no process to stop: it is "down" for the workers when it cannot
# write, which is what a held write lock does. BEGIN EXCLUSIVE takes the file's write lock
# and keeps it; every write then waits its bound (busy_timeout: STORE_REQUEST_TIMEOUT_MS,
# 10 s, for a request; 3 s for /health's probe) and answers 503 STORE_UNAVAILABLE. Reads
# go on (WAL: readers never wait for the writer), but every read of personal data writes
# its access-log entry first, so it answers 503 too.
_sqlite_lock = []


def _sqlite_running():
    return not _sqlite_lock


def _sqlite_stop(timeout=15):
    """Holds the SQLite store's write lock (until _sqlite_start)."""
    import sqlite3

    if _sqlite_lock:
        return
    db = sqlite3.connect(str(SQLITE_PATH), timeout=timeout, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    _sqlite_lock.append(db)


def _sqlite_start(timeout=30):
    """Releases the write lock _sqlite_stop took; no-op when none is held."""
    while _sqlite_lock:
        db = _sqlite_lock.pop()
        db.execute("ROLLBACK")
        db.close()


def store_running():
    """The store serves writes (FerretDB accepts connections; nobody holds SQLite's lock)."""
    return _sqlite_running() if STORE == "sqlite" else _ferret_running()


def store_stop(timeout=15):
    """The store stops serving: FerretDB is stopped; SQLite's write lock is held."""
    return _sqlite_stop(timeout) if STORE == "sqlite" else _ferret_stop(timeout)


def store_start(timeout=30):
    """The store serves again (FerretDB started with its command line; SQLite's lock let go)."""
    return _sqlite_start(timeout) if STORE == "sqlite" else _ferret_start(timeout)


@pytest.fixture
def store():
    """Stops and starts the store under the running workers: store.stop(), store.start(),
    store.running(); store.name is KT_STORE. Whatever the test does, the store runs again
    after it. (The same functions, store_stop() and store_start(), can be imported from
    conftest.) With FerretDB, stop() stops the process: nothing reaches the store. With
    SQLite, stop() holds the file's write lock: writes, and reads that log an access,
    answer 503 after their bound; see _sqlite_stop."""

    class Store:
        name = STORE
        stop = staticmethod(store_stop)
        start = staticmethod(store_start)
        running = staticmethod(store_running)

    yield Store
    store_start()


@pytest.fixture
def workers():
    """The FastCGI processes: workers.pids(), workers.master(), workers.wait(count, exclude)."""

    class Workers:
        pids = staticmethod(worker_pids)
        master = staticmethod(master_pid)
        wait = staticmethod(wait_for_workers)

    return Workers


@pytest.fixture(scope="session")
def mongo():
    """The store's database (pymongo), to look at or tamper with what the workers wrote.
    MongoDB backend only: a test that asks for it is skipped on SQLite (sqlite_db is that
    backend's view)."""
    if STORE != "mongodb":
        pytest.skip("mongodb only: reads the store with pymongo")
    import pymongo

    mc = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=10000)
    yield mc[DB_NAME]
    mc.close()


@pytest.fixture
def sqlite_db():
    """The SQLite store's file (sqlite3, autocommit, waiting up to 30 s for the write lock),
    to look at or tamper with what the workers wrote; documents are BSON blobs
    (bson.decode / bson.encode). SQLite backend only: skipped on MongoDB."""
    if STORE != "sqlite":
        pytest.skip("sqlite only: reads the store's file with sqlite3")
    import sqlite3

    db = sqlite3.connect(str(SQLITE_PATH), timeout=30, isolation_level=None)
    yield db
    db.close()


class RawStore:
    """What the workers wrote, read (and tampered with) behind the service's back, the same
    on both backends: the version records and access-log entries are the same documents on
    both (BSON in SQLite's blobs). Tests use it to prove what the service cannot be asked:
    that a tampered version is found, that no plaintext is stored, what an entry holds."""

    def __init__(self):
        self._mongo = self._sqlite = None
        if STORE == "mongodb":
            import pymongo

            self._client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=10000)
            self._mongo = self._client[DB_NAME]
        else:
            import sqlite3

            self._sqlite = sqlite3.connect(str(SQLITE_PATH), timeout=30, isolation_level=None)

    def close(self):
        if self._mongo is not None:
            self._client.close()
        else:
            self._sqlite.close()

    @staticmethod
    def _decode(blob):
        import bson

        return bson.decode(bytes(blob))

    def access_log(self, request_id):
        """The access-log entries the request request_id wrote."""
        if self._mongo is not None:
            return list(self._mongo.access_log.find({"request_id": request_id}))
        # The blob is the entry; request_id is no column (nothing queries it but this).
        rows = self._sqlite.execute("SELECT entry FROM access_log ORDER BY rowid DESC LIMIT 100000")
        return [e for e in map(self._decode, (r[0] for r in rows)) if e.get("request_id") == request_id]

    def version(self, kind, record_id, version):
        """The version record (student or organization), as stored."""
        if self._mongo is not None:
            return self._mongo[f"{kind}_versions"].find_one({"_id": f"{record_id}:{version:010d}"})
        row = self._sqlite.execute(
            f"SELECT record FROM {kind}_versions WHERE id = ? AND version = ?", (record_id, version)
        ).fetchone()
        return None if row is None else self._decode(row[0])

    def tamper(self, kind, record_id, version, field, value):
        """Sets doc.<field> of a stored version record, behind the hash chain's back; returns
        a function that puts the original back."""
        if self._mongo is not None:
            versions = self._mongo[f"{kind}_versions"]
            vid = f"{record_id}:{version:010d}"
            original = versions.find_one({"_id": vid})
            assert original is not None, vid
            versions.update_one({"_id": vid}, {"$set": {f"doc.{field}": value}})
            return lambda: versions.replace_one({"_id": vid}, original)
        import bson

        sql = f"SELECT record FROM {kind}_versions WHERE id = ? AND version = ?"
        row = self._sqlite.execute(sql, (record_id, version)).fetchone()
        assert row is not None, (kind, record_id, version)
        original = bytes(row[0])
        forged = bson.decode(original)
        forged["doc"][field] = value
        put = f"UPDATE {kind}_versions SET record = ? WHERE id = ? AND version = ?"
        self._sqlite.execute(put, (bson.encode(forged), record_id, version))
        return lambda: self._sqlite.execute(put, (original, record_id, version))

    def drop_claims(self, key=None, student_id=None):
        """Loses claims, as a store rewritten behind the service's back would: the claim of
        key ("snils:<СНИЛС>"), or all of student_id's."""
        if self._mongo is not None:
            if key is not None:
                self._mongo.claims.delete_many({"$or": [{"_id": key}, {"key": key}]})
            else:
                self._mongo.claims.delete_many({"student_id": student_id})
        elif key is not None:
            self._sqlite.execute("DELETE FROM claims WHERE key = ?", (key,))
        else:
            self._sqlite.execute("DELETE FROM claims WHERE id = ?", (student_id,))

    def documents(self):
        """(where, document or value) for everything the store holds: every collection's
        documents; every SQLite table's rows, blobs decoded when they are BSON."""
        if self._mongo is not None:
            for name in self._mongo.list_collection_names():
                for d in self._mongo[name].find():
                    yield (name, d.get("_id")), d
            return
        tables = [r[0] for r in self._sqlite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
        for table in tables:
            for row in self._sqlite.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            value = self._decode(value)
                        except Exception:  # not BSON: the raw bytes
                            pass
                    yield (table, row[0]), value

    def health_key(self, kid):
        """The stored health data key kid (its wraps), or None."""
        if self._mongo is not None:
            return self._mongo.health_keys.find_one({"_id": kid})
        row = self._sqlite.execute("SELECT wraps FROM health_keys WHERE id = ?", (kid,)).fetchone()
        return None if row is None else {"_id": kid, "wraps": self._decode(row[0])}


@pytest.fixture
def raw_store():
    """RawStore: the store read (and tampered with) behind the service's back, either backend."""
    raw = RawStore()
    yield raw
    raw.close()


# --- logs --------------------------------------------------------------------------------


class LogWatch:
    """What a log file gained since the watch began (or since mark())."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.mark()

    def mark(self):
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def text(self):
        if not self.path.exists():
            return ""
        with self.path.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def records(self):
        """The new lines that are JSON objects, parsed."""
        out = []
        for line in self.text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out


@pytest.fixture
def server_log():
    """kontingent.log (the master's and workers' JSON lines) from the test's start on."""
    return LogWatch(TEST_VAR / "log" / "kontingent.log")


@pytest.fixture
def access_log():
    """nginx's JSON access log from the test's start on (it is written when a request ends)."""
    return LogWatch(TEST_VAR / "log" / "nginx-access.log")


# --- organisations -----------------------------------------------------------------------
# A student's organisation must be an existing, ACTIVE organisation (REF_NOT_FOUND
# otherwise), so the organisations the tests name are created first.


def ensure_org(ogrn, **overrides):
    """Creates the organisation ogrn (a valid school, kt_data.organization) unless it
    exists already; returns ogrn."""
    import kt_data

    r = requests.post(
        BASE_URL + "/api/v1/organizations",
        json=kt_data.organization(ogrn, **overrides),
        headers={"Authorization": f"Bearer {_registry_token()}"},
        verify=False,
        timeout=TIMEOUT,
    )
    assert r.status_code in (201, 409), f"{r.status_code} {r.text[:500]}"
    return ogrn


_REGISTRY_TOKEN = []


def _registry_token():
    if not _REGISTRY_TOKEN:
        _REGISTRY_TOKEN.append(issue_token("region", sub="test-registry"))
    return _REGISTRY_TOKEN[0]


def new_org(**overrides):
    """A new organisation, created; returns its ОГРН."""
    import kt_data

    return ensure_org(kt_data.new_ogrn(), **overrides)


@pytest.fixture(scope="session", autouse=True)
def schools():
    """The organisations of kt_data.SCHOOLS exist for every test."""
    import kt_data

    for ogrn in kt_data.SCHOOLS:
        ensure_org(ogrn)
    return kt_data.SCHOOLS
