"""kontingentctl as an operator meets it: --help and --version on every command, wrong
arguments named (exit 2), import's exit status when items are rejected, progress lines
when standard error is not a terminal, the files it makes 0600, and the configuration
file (KT_CONFIG) that it reads like the service."""

import os
import pathlib
import pty
import re
import stat
import subprocess

import pytest
import requests

from conftest import CTL, STORE, TEST_VAR, run_ctl
from kt_data import student
from test_packages import packet, student_xml

COMMANDS = ["token issue", "token revoke", "token kid", "token rotate", "token retire", "epoch",
            "init", "verify", "repair", "import",
            "export", "keys", "migrate"]


def quiet(stderr):
    """stderr without libmongoc's start-up notice (its shared-memory counters, which some
    machines refuse: "Falling back to malloc for counters")."""
    return "".join(line for line in stderr.splitlines(keepends=True) if "mongoc:" not in line)


def version():
    return requests.get(os.environ["KT_BASE_URL"] + "/api/v1/health", verify=False,
                        timeout=30).json()["version"]


def test_help_and_version_of_the_tool():
    proc = run_ctl("--help")
    assert proc.stdout.startswith("kontingentctl ") and quiet(proc.stderr) == ""
    for name in COMMANDS:
        assert f"kontingentctl {name}" in proc.stdout
    assert run_ctl("--version").stdout == f"kontingentctl {version()}\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_and_version_of_every_command(name):
    proc = run_ctl(*name.split(), "--help")
    assert proc.stdout.startswith(f"usage: kontingentctl {name}") and quiet(proc.stderr) == ""
    assert "Exit status" in proc.stdout
    assert run_ctl(*name.split(), "--version").stdout == f"kontingentctl {version()}\n"


@pytest.mark.parametrize("args, says", [
    (["tokn", "issue"], 'unknown command "tokn"'),
    (["token", "issue", "--role", "teacher"], '--role "teacher": expected region'),
    (["token", "issue", "--role", "admin", "--ttl", "5x"], '--ttl "5x"'),
    (["token", "issue", "--role", "admin", "--ttl"], "--ttl needs a value"),
    (["token", "issue", "--rol", "admin"], 'unknown argument "--rol"'),
    (["token", "issue"], "--role is required"),
    (["token", "kid", "now"], 'unexpected argument "now"'),
    (["verify", "--fast"], 'unexpected argument "--fast"'),
    (["import"], "FILE is required"),
    (["import", "a.xml", "--recipt", "r.xml"], 'unknown argument "--recipt"'),
    (["import", "a.xml", "--receipt"], "--receipt needs a file"),
    (["export", "--org", "1027700132195"], 'unknown argument "--org"'),
    (["export"], "--organization is required"),
    (["keys", "rotate", "--grace", "9999"], '--grace "9999"'),
    (["keys", "spin"], 'unknown argument "spin"'),
    (["migrate", "--to", "oracle"], '--to must be sqlite or mongodb, not "oracle"'),
    (["migrate", "--from", "sqlite"], 'unknown argument "--from"'),
])
def test_wrong_arguments_are_named(args, says):
    proc = run_ctl(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr
    assert "usage: kontingentctl" in proc.stderr and proc.stdout == ""


def test_import_exits_1_when_an_item_is_rejected(tmp_path):
    bad = student()
    bad["organization"] = "1000000000009"  # no such school
    _, body = packet([student_xml(student(), "1"), student_xml(bad, "2")])
    path = tmp_path / "package.xml"
    path.write_bytes(body)
    proc = run_ctl("import", path, "--receipt", tmp_path / "receipt.xml", check=False)
    assert proc.returncode == 1, proc.stderr
    assert "received 2: created 1" in proc.stdout and "rejected 1" in proc.stdout
    assert "1 of 2 items rejected (the receipt says why)" in proc.stderr
    # The receipt names students: for its owner alone.
    assert stat.S_IMODE((tmp_path / "receipt.xml").stat().st_mode) == 0o600


def test_progress_lines_when_not_a_terminal(tmp_path):
    # 130 items: ingest reports at the end of each batch of 64.
    _, body = packet([student_xml(student(), str(i)) for i in range(130)])
    path = tmp_path / "package.xml"
    path.write_bytes(body)
    fast = {"KT_PROGRESS_SECONDS": "0"}
    proc = run_ctl("import", path, env=fast)
    assert "import: 64 items, " in proc.stderr and "import: 128 items, " in proc.stderr
    assert "\r" not in proc.stderr
    # (Other tests' tampering may make the verdict BROKEN: exit 1. Only the lines count.)
    proc = run_ctl("verify", env=fast, check=False, timeout=600)
    # verify knows its total (the records counted first): a share of it.
    assert re.search(r"^verify: 1/\d+ records \(\d+%\), \d+ s$", proc.stderr, re.M), proc.stderr
    # The default: a line every 10 seconds, none from a command that takes less.
    assert "items, " not in run_ctl("import", path).stderr


def test_a_new_store_file_is_0600(tmp_path):
    db = tmp_path / "fresh.db"
    run_ctl("init", env={"KT_STORE": "sqlite", "KT_SQLITE": db})
    for f in tmp_path.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def bare_env(**more):
    """No KT_* or MONGODB_URI from the stack: only what the configuration file says."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KT_") and k != "MONGODB_URI"}
    env.update({k: str(v) for k, v in more.items()})
    return env


def test_config_file_names_the_services_store(tmp_path, client, region_cert):
    r = client.post("/api/v1/students", json=student(), cert=region_cert)
    assert r.status_code == 201, r.text
    conf = tmp_path / "kontingent.conf"
    conf.write_text(
        "# as /etc/kontingent/kontingent.conf\n"
        f"KT_VAR={TEST_VAR}\n"
        f"KT_STORE={STORE}\n"
        f"KT_SQLITE={os.environ['KT_SQLITE']}\n"
        f"MONGODB_URI='{os.environ['MONGODB_URI']}'\n"
        f"KT_DB={os.environ.get('KT_DB', 'kontingent')}\n")
    proc = subprocess.run([CTL, "verify"], env=bare_env(KT_CONFIG=conf), capture_output=True,
                          text=True, timeout=600)
    # 1: BROKEN or DUPLICATE, which other tests' tampering makes; the counts are the point.
    assert proc.returncode in (0, 1) and proc.stdout, proc.stderr
    summary = proc.stdout.splitlines()[-1]
    students = int(summary.split(": ")[1].split(" students")[0])
    assert students >= 1, summary
    # The environment still overrides the file.
    other = tmp_path / "other.db"
    proc = subprocess.run([CTL, "init"],
                          env=bare_env(KT_CONFIG=conf, KT_STORE="sqlite", KT_SQLITE=other),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and other.stat().st_size > 0, proc.stderr


def test_a_bad_config_line_is_named(tmp_path):
    conf = tmp_path / "kontingent.conf"
    conf.write_text("KT_STORE=sqlite\nKT_DB kontingent\n")
    proc = subprocess.run([CTL, "verify"], env=bare_env(KT_CONFIG=conf), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{conf}: line 2: expected NAME=value" in proc.stderr
    conf.write_text("KT_STORE=sqlite\nKT_WORKRES=4\n")
    proc = subprocess.run([CTL, "verify"], env=bare_env(KT_CONFIG=conf), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and "line 2: KT_WORKRES is not a setting" in proc.stderr


def test_samples_apply_whole_on_a_fresh_store(tmp_path):
    """docs/xml-exchange.md, "Posting it": the schools, then packet-small.xml, then
    packet-records.xml — every item applied on a registry that had nothing (kontingentctl
    import exits 0 only then)."""
    fresh = {"KT_STORE": "sqlite", "KT_SQLITE": tmp_path / "fresh.db"}
    run_ctl("init", env=fresh)
    samples = pathlib.Path(os.environ.get("KT_REPO", ".")) / "xsd" / "samples"
    for name in ("packet-organizations.xml", "packet-small.xml", "packet-records.xml"):
        proc = run_ctl("import", samples / name, env=fresh, check=False)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
        assert " rejected 0" in proc.stdout, (name, proc.stdout)


@pytest.mark.parametrize("args", [["verify"], ["export", "--organization", "1027700132195"],
                                  ["keys", "rotate"]])
def test_a_store_that_is_not_there_is_not_made(tmp_path, args):
    """A wrong path (KT_VAR, KT_SQLITE) would otherwise give a new, empty registry: verify
    OK with 0 students, an empty Packet, a key written and its rewrap failed."""
    missing = tmp_path / "data" / "kontingent.db"
    (tmp_path / "data").mkdir()
    keys = tmp_path / "health.keys"
    proc = run_ctl(*args, env={"KT_STORE": "sqlite", "KT_SQLITE": missing,
                               "KT_HEALTH_KEYS": keys}, check=False)
    assert proc.returncode == 1
    assert f"there is no store at {missing}" in proc.stderr and proc.stdout == ""
    assert not missing.exists() and not keys.exists()


def test_the_server_reports_the_same_version():
    fcgi = pathlib.Path(CTL).with_name("kontingent-fcgi")
    out = subprocess.run([str(fcgi), "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout == f"kontingent-fcgi {version()}\n"
    out = subprocess.run([str(fcgi), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("usage: kontingent-fcgi")
    out = subprocess.run([str(fcgi), "--versoin"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and 'unknown argument "--versoin"' in out.stderr


def test_a_bar_on_a_terminal():
    """verify with standard error on a terminal: a bar redrawn in place (\\r), ending at
    100% on a line of its own; standard output (not the terminal) keeps the report."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([CTL, "verify"], env=dict(os.environ, KT_VAR=str(TEST_VAR)),
                            stdout=subprocess.PIPE, stderr=secondary, text=True)
    os.close(secondary)
    seen = b""
    try:
        while True:  # read while it writes, so that the terminal's buffer never fills
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the program has ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out = proc.communicate(timeout=600)[0]
    finally:
        os.close(primary)
    text = seen.decode()
    assert proc.returncode in (0, 1), text
    assert "\rverify [" in text and "] 100% " in text, repr(text[-300:])
    assert out.splitlines()[-1].split(":")[0] in ("OK", "BROKEN", "DUPLICATE")
