# shellcheck shell=bash
# scripts/lib.sh: what scripts/run, scripts/stop and scripts/test share. Source it, don't run it.
#
#   kt_config               settle every knob (KT_VAR, KT_PORT, ...) and export it
#   kt_install_deps         Debian packages, only those missing
#   kt_install_ferretdb     FerretDB 1.24.2 into KT_BIN_DIR, unless already there (with
#                           kt_install_go: a Go of 1.24 or newer, installed when missing)
#   kt_ensure_venv          .venv with tests/integration/requirements.txt
#   kt_ensure_web_deps      tests/web/node_modules from its package-lock.json (npm ci)
#   kt_build PRESET [TARGET...]  configure once, then build (CMake presets): all, or TARGETs
#   kt_ensure_state VAR     first-run state: directories, TLS, keys, clients.map
#   kt_start_ferretdb       FerretDB on the unix socket KT_FERRET_SOCKET, SQLite files in KT_VAR/data
#   kt_prepare_sqlite       the SQLite store's file and directory, owner and mode (KT_STORE=sqlite)
#   kt_store_init CTL       `kontingentctl init`: the store's tables/indexes, before the workers
#   kt_store_says           one line naming the store in use
#   kt_write_ctl_conf       $KT_VAR/kontingent.conf: the stack's settings for kontingentctl
#   kt_start_fcgi BINARY    the FastCGI master and its workers on KT_SOCKET
#   kt_start_nginx          nginx with nginx/kontingent.conf.in rendered for KT_VAR
#   kt_wait_health SECONDS  until GET /api/v1/health answers 200
#   kt_stop_all             stop what the start functions started (pid files), idempotent
#
# Every process started here gets its own session (setsid), so that Ctrl-C reaches only
# the script, which then stops them in order: nginx, the workers (they drain), the store.
# Their pids are kept in $KT_VAR/run/started/NAME.pid.

KT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
KT_FERRETDB_MODULE=github.com/FerretDB/FerretDB
KT_FERRETDB_VERSION=v1.24.2

kt_say() { printf '==> %s\n' "$*" >&2; }
kt_warn() { printf 'warning: %s\n' "$*" >&2; }
kt_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

kt_is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Settles every knob from the environment and exports it for the processes started later.
kt_config() {
    KT_VAR=${KT_VAR:-$KT_REPO/var}
    mkdir -p "$KT_VAR"
    # Traversable, not listable: nginx's user reaches the FastCGI socket below it.
    chmod 0711 "$KT_VAR"
    KT_VAR=$(cd "$KT_VAR" && pwd -P)
    KT_PORT=${KT_PORT:-8443}
    KT_WORKERS=${KT_WORKERS:-2}
    KT_THREADS=${KT_THREADS:-8}
    KT_MAX_BODY=${KT_MAX_BODY:-8388608}
    KT_MAX_PACKAGE=${KT_MAX_PACKAGE:-134217728}
    KT_DB=${KT_DB:-kontingent}
    KT_TOKEN_ALG=${KT_TOKEN_ALG:-EdDSA}
    KT_SOCKET=${KT_SOCKET:-$KT_VAR/run/kontingent.sock}
    KT_PID_FILE=${KT_PID_FILE:-$KT_VAR/run/kontingent-fcgi.pid}
    KT_TOKEN_PUBLIC_KEY=${KT_TOKEN_PUBLIC_KEY:-$KT_VAR/keys/token-signing.pub}
    KT_TOKEN_PRIVATE_KEY=${KT_TOKEN_PRIVATE_KEY:-$KT_VAR/keys/token-signing.key}
    KT_CLIENT_MAP=${KT_CLIENT_MAP:-$KT_VAR/tls/clients.map}
    # Started as root, each kontingent-fcgi worker reads its key and certificate map, then
    # becomes KT_USER (default nobody) before serving; the master stays root like nginx's.
    KT_USER=${KT_USER:-nobody}
    # FerretDB (tests, development) listens on this unix socket only, mode 0600, in a 0700
    # directory of KT_USER's: no TCP port, so no other local user reaches the store.
    # A deep KT_VAR would make the path too long for a unix socket (107 bytes): then a
    # directory of its own under /tmp, named after KT_VAR (made 0700, and checked, at start).
    if [[ -z ${KT_FERRET_SOCKET:-} ]]; then
        KT_FERRET_SOCKET=$KT_VAR/run/ferretdb/ferretdb.sock
        if ((${#KT_FERRET_SOCKET} >= 108)); then
            KT_FERRET_SOCKET=/tmp/kt-ferretdb-$(printf '%s' "$KT_VAR" | sha256sum | cut -c1-16)/ferretdb.sock
        fi
    fi
    # Started as root, nginx's workers run as KT_NGINX_USER (default www-data, else nobody)
    # and reach the workers' socket through its group (KT_SOCKET_GROUP, mode 0660).
    if [[ $(id -u) -eq 0 ]]; then
        if [[ -z ${KT_NGINX_USER:-} ]]; then
            KT_NGINX_USER=nobody
            if id -u www-data >/dev/null 2>&1; then KT_NGINX_USER=www-data; fi
        fi
        id -u "$KT_NGINX_USER" >/dev/null 2>&1 || kt_die "KT_NGINX_USER: no user $KT_NGINX_USER"
        KT_SOCKET_GROUP=${KT_SOCKET_GROUP:-$(id -gn "$KT_NGINX_USER")}
    else
        KT_NGINX_USER=${KT_NGINX_USER:-}
        KT_SOCKET_GROUP=${KT_SOCKET_GROUP:-}
    fi
    # nginx's request rate per client address on /api/ (docs/operations.md; 0: no limit).
    KT_RATE_LIMIT=${KT_RATE_LIMIT:-100}
    KT_RATE_BURST=${KT_RATE_BURST:-200}
    # The region's time zone: its day is "today" for every date rule (an IANA name; the
    # workers and kontingentctl refuse an unknown one at start; docs/operations.md).
    KT_TIMEZONE=${KT_TIMEZONE:-Europe/Moscow}
    # The scripts' stacks are configured by these variables alone: no configuration file
    # (an installed package's /etc/kontingent/kontingent.conf) unless KT_CONFIG names one.
    KT_CONFIG=${KT_CONFIG-}
    # The store: sqlite (embedded in every worker and kontingentctl: one file, KT_SQLITE) or
    # mongodb (MONGODB_URI, else a FerretDB of ours on KT_FERRET_SOCKET).
    KT_STORE=${KT_STORE:-sqlite}
    [[ $KT_STORE == sqlite || $KT_STORE == mongodb ]] ||
        kt_die "KT_STORE must be sqlite or mongodb, not '$KT_STORE'"
    # Absolute, so that the workers, kontingentctl and the tests name the same file.
    KT_SQLITE=${KT_SQLITE:-$KT_VAR/data/$KT_DB.db}
    if [[ $KT_SQLITE != /* ]]; then KT_SQLITE=$PWD/$KT_SQLITE; fi
    # KT_OWN_FERRETDB=1: the scripts start (and stop) a FerretDB of their own: KT_STORE=mongodb
    # without a MONGODB_URI from the operator. SQLite has no process of its own.
    if [[ $KT_STORE == mongodb && -z ${MONGODB_URI:-} ]]; then
        KT_OWN_FERRETDB=1
    else
        KT_OWN_FERRETDB=0
    fi
    if [[ -z ${MONGODB_URI:-} ]]; then
        # libmongoc and pymongo take a socket path percent-encoded as the host; it must end
        # in .sock. (Unused with sqlite.)
        MONGODB_URI="mongodb://${KT_FERRET_SOCKET//\//%2F}/"
    fi
    local knob
    for knob in KT_PORT KT_WORKERS KT_THREADS KT_MAX_BODY KT_MAX_PACKAGE \
        KT_RATE_LIMIT KT_RATE_BURST; do
        kt_is_uint "${!knob}" || kt_die "$knob must be a number, not '${!knob}'"
    done
    ((KT_PORT > 0 && KT_PORT < 65536)) || kt_die "KT_PORT out of range: $KT_PORT"
    ((KT_WORKERS > 0 && KT_THREADS > 0)) || kt_die "KT_WORKERS and KT_THREADS must be at least 1"
    # sun_path holds 108 bytes with the terminating NUL.
    ((${#KT_SOCKET} < 108)) ||
        kt_die "socket path too long for a unix socket (${#KT_SOCKET} bytes): $KT_SOCKET; set KT_SOCKET or KT_VAR"
    ((${#KT_FERRET_SOCKET} < 108)) ||
        kt_die "socket path too long for a unix socket (${#KT_FERRET_SOCKET} bytes): $KT_FERRET_SOCKET; set KT_FERRET_SOCKET or KT_VAR"
    [[ $KT_FERRET_SOCKET == /*.sock ]] || kt_die "KT_FERRET_SOCKET must be an absolute path ending in .sock"
    export KT_REPO KT_VAR KT_PORT KT_WORKERS KT_THREADS KT_MAX_BODY KT_MAX_PACKAGE KT_DB \
        KT_TOKEN_ALG KT_SOCKET KT_PID_FILE KT_TOKEN_PUBLIC_KEY KT_TOKEN_PRIVATE_KEY \
        KT_CLIENT_MAP KT_USER KT_STORE KT_SQLITE MONGODB_URI KT_OWN_FERRETDB KT_FERRET_SOCKET KT_NGINX_USER \
        KT_SOCKET_GROUP KT_RATE_LIMIT KT_RATE_BURST KT_TIMEZONE KT_CONFIG
}

# ---------------------------------------------------------------------------------------------
# Installs

KT_APT_PACKAGES=(build-essential cmake ninja-build pkg-config clang libclang-rt-dev clang-format
    libfcgi-dev libmongoc-dev libbson-dev libsqlite3-dev libxml2-dev libxml2-utils libssl-dev zlib1g-dev sqlite3
    libengine-gost-openssl # ГОСТ Р 34.10-2012: ЕСИА's signatures (auth/esia.c)
    nginx openssl curl ca-certificates
    python3 python3-yaml # the build: docs/openapi.yaml → openapi.json (scripts/openapi-json)
    python3-venv # scripts/test: free ports, the report, the integration tests' .venv
    nodejs npm chromium) # the console's browser tests (tests/web)

# Installs the Debian packages that are missing; does nothing (no apt-get) when none is.
kt_install_deps() {
    local missing=() pkg status
    for pkg in "${KT_APT_PACKAGES[@]}"; do
        # Whoever brought nginx (nginx-light, nginx-full, a build of one's own) brought enough.
        if [[ $pkg == nginx ]] && command -v nginx >/dev/null 2>&1; then continue; fi
        # The same for Node.js (NodeSource's nodejs carries its own npm, which Debian's would clash with).
        if [[ $pkg == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
        if [[ $pkg == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ $status == installed ]] || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            kt_die "missing Debian packages, install them as root: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    kt_say "installing Debian packages: ${missing[*]}"
    local log policy_rc=/usr/sbin/policy-rc.d made_policy=0
    mkdir -p "$KT_REPO/build"
    log=$KT_REPO/build/apt.log
    # Installing nginx must not start the system's nginx service: this project runs its own.
    if [[ ! -e $policy_rc ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy_rc" >/dev/null
        "${sudo[@]}" chmod 0755 "$policy_rc"
        made_policy=1
    fi
    local rc=0
    {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends "${missing[@]}"
    } >"$log" 2>&1 || rc=$?
    if ((made_policy)); then "${sudo[@]}" rm -f "$policy_rc"; fi
    if ((rc != 0)); then
        tail -n 30 "$log" >&2
        kt_die "apt-get failed (full log: $log)"
    fi
}

# Go builds FerretDB (tests and KT_STORE=mongodb development only: the service and its
# Debian package need no Go). FerretDB v1.24.2's go.mod says `go 1.24`; Debian 12's
# golang-go is 1.19, so the scripts bring their own when no Go of 1.24 or newer is found.
KT_GO_VERSION=1.24.3

# kt_go_ok GO: GO runs and is 1.24 or newer.
kt_go_ok() {
    local v major minor
    v=$("$1" env GOVERSION 2>/dev/null) || return 1
    v=${v#go}
    major=${v%%.*}
    minor=${v#*.}
    minor=${minor%%[!0-9]*}
    kt_is_uint "$major" && kt_is_uint "$minor" && ((major > 1 || (major == 1 && minor >= 24)))
}

# Puts a Go of 1.24 or newer first on PATH: one already there, /usr/local/go's, or one
# installed by an earlier run; else installs go.dev's release $KT_GO_VERSION into KT_GO_ROOT
# (/opt/kontingent/go as root, else ~/.local/share/kontingent/go), its SHA-256 checked
# against the list go.dev publishes. An older Go elsewhere is left alone.
kt_install_go() {
    local go root=${KT_GO_ROOT:-}
    if [[ -z $root ]]; then
        root=/opt/kontingent/go
        if [[ $(id -u) -ne 0 ]]; then root=${XDG_DATA_HOME:-$HOME/.local/share}/kontingent/go; fi
    fi
    for go in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$root/bin/go"; do
        if [[ -n $go && -x $go ]] && kt_go_ok "$go"; then
            PATH=$(dirname "$go"):$PATH
            export PATH
            return 0
        fi
    done
    local arch file tmp sum
    case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) kt_die "no Go of 1.24 or newer, and no Go release for $(uname -m): install one, or set PATH" ;;
    esac
    file=go$KT_GO_VERSION.linux-$arch.tar.gz
    kt_say "installing Go $KT_GO_VERSION into $root (to build FerretDB; once)"
    tmp=$(mktemp -d)
    if ! curl -fsSL --retry 3 -o "$tmp/$file" "https://go.dev/dl/$file" ||
        ! curl -fsSL --retry 3 -o "$tmp/list.json" 'https://go.dev/dl/?mode=json&include=all'; then
        rm -rf "$tmp"
        kt_die "downloading Go $KT_GO_VERSION from https://go.dev/dl/ failed: install Go 1.24 or newer yourself (PATH, or /usr/local/go)"
    fi
    sum=$(python3 -c '
import json, sys
print(next(f["sha256"] for r in json.load(open(sys.argv[1])) for f in r["files"]
           if f["filename"] == sys.argv[2]))' "$tmp/list.json" "$file") ||
        kt_die "go.dev's list has no checksum for $file"
    if ! printf '%s  %s\n' "$sum" "$tmp/$file" | sha256sum -c --quiet >/dev/null 2>&1; then
        rm -rf "$tmp"
        kt_die "$file does not match go.dev's SHA-256: not installed"
    fi
    rm -rf "$root.new"
    mkdir -p "$root.new"
    tar -C "$root.new" --strip-components=1 -xzf "$tmp/$file"
    rm -rf "$tmp" "$root"
    mv "$root.new" "$root"
    kt_go_ok "$root/bin/go" || kt_die "$root/bin/go does not run"
    PATH=$root/bin:$PATH
    export PATH
}

kt_ferretdb_is_wanted() {
    local out
    [[ -x $1 ]] && out=$("$1" --version 2>/dev/null) &&
        grep -qx "version: $KT_FERRETDB_VERSION" <<<"$out"
}

# Sets FERRETDB to a FerretDB 1.24.2 binary, building it when KT_BIN_DIR has none.
#
# Not `go install ...@v1.24.2`: the module lacks build/version/version.txt (FerretDB
# generates it from git), and the binary that go install makes panics at start-up
# ("Invalid build/version/version.txt file content"). So: the module's own source,
# from the module proxy, with that file written, built with go build.
kt_install_ferretdb() {
    if [[ -z ${KT_BIN_DIR:-} ]]; then
        KT_BIN_DIR=/opt/kontingent/bin
        if ! kt_ferretdb_is_wanted "$KT_BIN_DIR/ferretdb" &&
            { ! mkdir -p "$KT_BIN_DIR" 2>/dev/null || [[ ! -w $KT_BIN_DIR ]]; }; then
            KT_BIN_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/kontingent/bin
        fi
    fi
    mkdir -p "$KT_BIN_DIR"
    FERRETDB=$KT_BIN_DIR/ferretdb
    export KT_BIN_DIR FERRETDB
    kt_ferretdb_is_wanted "$FERRETDB" && return 0

    kt_install_go
    kt_say "building FerretDB $KT_FERRETDB_VERSION into $KT_BIN_DIR (once; a few minutes)"
    local tmp log rc
    tmp=$(mktemp -d)
    log=$tmp.log
    # Not `( ... ) || rc=$?`: on the left of || the subshell's set -e would be ignored.
    set +e
    (
        set -euo pipefail
        cd "$tmp"
        # The Go found or installed above, never one fetched behind the scenes.
        export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
        json=$(go mod download -json "$KT_FERRETDB_MODULE@$KT_FERRETDB_VERSION") || {
            printf '%s\n' "$json"
            exit 1
        }
        dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
        [[ -n $dir && -d $dir ]] || {
            printf 'no module source in:\n%s\n' "$json"
            exit 1
        }
        cp -R "$dir" src
        chmod -R u+w src
        printf '%s\n' "$KT_FERRETDB_VERSION" >src/build/version/version.txt
        cd src
        go build -trimpath -buildvcs=false -o "$tmp/ferretdb" ./cmd/ferretdb
        "$tmp/ferretdb" --version >/dev/null
        install -m 0755 "$tmp/ferretdb" "$FERRETDB.new"
        mv -f "$FERRETDB.new" "$FERRETDB"
    ) >"$log" 2>&1
    rc=$?
    set -e
    rm -rf "$tmp"
    if ((rc != 0)); then
        tail -n 30 "$log" >&2
        kt_die "building FerretDB failed (full log: $log)"
    fi
    rm -f "$log"
    kt_ferretdb_is_wanted "$FERRETDB" || kt_die "$FERRETDB does not report $KT_FERRETDB_VERSION"
}

# The integration tests' Python: .venv, reinstalled only when requirements.txt changes.
kt_ensure_venv() {
    local venv=$KT_REPO/.venv req=$KT_REPO/tests/integration/requirements.txt sum
    sum=$(sha256sum "$req" | cut -d' ' -f1)
    KT_PYTHON=$venv/bin/python
    export KT_PYTHON
    if "$KT_PYTHON" -c 'import sys' >/dev/null 2>&1 &&
        [[ $(cat "$venv/.requirements.sha256" 2>/dev/null) == "$sum" ]]; then
        return 0
    fi
    kt_say "creating $venv from $req"
    command -v python3 >/dev/null 2>&1 || kt_die "python3 is needed for the integration tests"
    python3 -m venv --clear "$venv" || kt_die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$KT_PYTHON" -m pip install -q --disable-pip-version-check -r "$req" ||
        kt_die "pip install -r $req failed"
    printf '%s\n' "$sum" >"$venv/.requirements.sha256"
}

# The console tests' npm packages (tests/web): npm ci, again only when package-lock.json changes.
kt_ensure_web_deps() {
    local dir=$KT_REPO/tests/web sum
    sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [[ -d $dir/node_modules && $(cat "$dir/node_modules/.lock.sha256" 2>/dev/null) == "$sum" ]]; then
        return 0
    fi
    kt_say "installing the console tests' npm packages (npm ci in tests/web)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    printf '%s\n' "$sum" >"$dir/node_modules/.lock.sha256"
}

# Configures a CMake preset once (ninja re-runs CMake itself when CMakeLists.txt changes),
# then builds it; a build with nothing to do takes a fraction of a second. A failure does
# not stop the rest of the build (ninja -k 0), so that the tests that did build can run.
kt_build() {
    local preset=$1 dir=$KT_REPO/build/$1 targets=()
    shift
    if (($# > 0)); then targets=(--target "$@"); fi
    if [[ ! -f $dir/build.ninja ]]; then
        kt_say "configuring $preset"
        mkdir -p "$KT_REPO/build"
        if ! (cd "$KT_REPO" && cmake --preset "$preset") >"$KT_REPO/build/$preset.configure.log" 2>&1; then
            cat "$KT_REPO/build/$preset.configure.log" >&2
            rm -f "$dir/build.ninja"
            kt_warn "configuring $preset failed"
            return 1
        fi
    fi
    kt_say "building $preset"
    (cd "$KT_REPO" && cmake --build --preset "$preset" "${targets[@]}" -- -k 0)
}

# ---------------------------------------------------------------------------------------------
# First-run state. Never overwrites: every file is made only when missing.

# Both files of a pair exist (0), or neither (1); one without the other is an error.
kt_pair_exists() {
    if [[ -e $1 && -e $2 ]]; then return 0; fi
    if [[ -e $1 || -e $2 ]]; then
        kt_die "$1 and $2 go together, one is missing: restore it, or remove both to make a new pair"
    fi
    return 1
}

kt_new_ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# kt_self_signed_ca KEY CRT SUBJECT: a CA certificate for client certificates.
kt_self_signed_ca() {
    local key=$1 crt=$2 subj=$3
    (umask 077 && kt_new_ec_key "$key.tmp")
    openssl req -new -x509 -key "$key.tmp" -out "$crt.tmp" -days 3650 -subj "$subj" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 0600 "$key.tmp"
    chmod 0644 "$crt.tmp"
    mv "$key.tmp" "$key"
    mv "$crt.tmp" "$crt"
}

# kt_client_cert CA_KEY CA_CRT KEY CRT SUBJECT: a client certificate signed by that CA.
kt_client_cert() {
    local ca_key=$1 ca_crt=$2 key=$3 crt=$4 subj=$5 ext
    (umask 077 && kt_new_ec_key "$key.tmp")
    ext=$(mktemp)
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" >"$ext"
    openssl req -new -key "$key.tmp" -subj "$subj" 2>/dev/null |
        openssl x509 -req -CA "$ca_crt" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
            -days 825 -extfile "$ext" -out "$crt.tmp" 2>/dev/null
    rm -f "$ext"
    chmod 0600 "$key.tmp"
    chmod 0644 "$crt.tmp"
    mv "$key.tmp" "$key"
    mv "$crt.tmp" "$crt"
}

# The development regional system. nginx prints the subject in RFC 2253 order, most
# specific first: that is the string clients.map holds.
KT_REGION_SUBJECT="/C=RU/O=Kontingent Dev/CN=MUNICIPAL-EDU-07"
KT_REGION_DN="CN=MUNICIPAL-EDU-07,O=Kontingent Dev,C=RU"

# kt_service_owns PATH...: as root, PATH belongs to KT_USER (the store's files are its).
kt_service_owns() {
    if [[ $(id -u) -eq 0 ]]; then chown -R "$KT_USER:$(id -gn "$KT_USER")" "$@"; fi
}

kt_ensure_state() {
    local var=$1
    # From here on, everything the scripts and the processes they start create (the store's
    # files, logs, keys, backups) is for the service's user alone (docs/security.md,
    # "Files"). Not before: the installs and builds that come first make files that
    # FerretDB and the workers, as KT_USER, and nginx's user must read.
    umask 077
    mkdir -p "$var/data" "$var/run/started" "$var/log" "$var/tls" "$var/keys" "$var/backups"
    # State is private (0700, files 0600); run/ is only traversable: it holds the workers'
    # socket, which nginx's user reaches by its group.
    chmod 0711 "$var" "$var/run"
    chmod 0700 "$var/data" "$var/log" "$var/tls" "$var/keys" "$var/backups" "$var/run/started"
    chmod -R go-rwx "$var/data" "$var/log" "$var/keys" "$var/backups"
    kt_service_owns "$var/data"
    local tls=$var/tls keys=$var/keys

    if ! kt_pair_exists "$tls/server.key" "$tls/server.crt"; then
        kt_say "making a self-signed server certificate for 127.0.0.1 and localhost"
        (umask 077 && kt_new_ec_key "$tls/server.key.tmp")
        openssl req -new -x509 -key "$tls/server.key.tmp" -out "$tls/server.crt.tmp" -days 825 \
            -subj "/O=Kontingent Dev/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -addext "keyUsage=critical,digitalSignature" \
            -addext "extendedKeyUsage=serverAuth" 2>/dev/null
        chmod 0600 "$tls/server.key.tmp"
        chmod 0644 "$tls/server.crt.tmp"
        mv "$tls/server.key.tmp" "$tls/server.key"
        mv "$tls/server.crt.tmp" "$tls/server.crt"
    fi

    if ! kt_pair_exists "$tls/client-ca.key" "$tls/client-ca.crt"; then
        kt_say "making the development client CA"
        kt_self_signed_ca "$tls/client-ca.key" "$tls/client-ca.crt" \
            "/C=RU/O=Kontingent Dev/CN=Kontingent Dev Client CA"
    fi

    if ! kt_pair_exists "$tls/region-client.key" "$tls/region-client.crt"; then
        kt_say "making a client certificate for the regional system MUNICIPAL-EDU-07"
        kt_client_cert "$tls/client-ca.key" "$tls/client-ca.crt" \
            "$tls/region-client.key" "$tls/region-client.crt" "$KT_REGION_SUBJECT"
    fi

    if [[ ! -e $tls/clients.map ]]; then
        cat >"$tls/clients.map.tmp" <<EOF
# Client certificate subjects -> principals (docs/operations.md, "Certificates").
# <role> <org OGRN or -> <subject DN exactly as nginx's \$ssl_client_s_dn prints it>
region - $KT_REGION_DN
EOF
        mv "$tls/clients.map.tmp" "$tls/clients.map"
    fi

    if ! kt_pair_exists "$keys/token-signing.key" "$keys/token-signing.pub"; then
        kt_say "making the Ed25519 token-signing key"
        (umask 077 && openssl genpkey -algorithm ed25519 -out "$keys/token-signing.key.tmp")
        openssl pkey -in "$keys/token-signing.key.tmp" -pubout -out "$keys/token-signing.pub.tmp"
        chmod 0600 "$keys/token-signing.key.tmp"
        chmod 0644 "$keys/token-signing.pub.tmp"
        mv "$keys/token-signing.key.tmp" "$keys/token-signing.key"
        mv "$keys/token-signing.pub.tmp" "$keys/token-signing.pub"
    fi

    # The health data's master key (docs/health.md, "Keys"): read by each worker before it
    # drops root; `kontingentctl keys rotate` adds the next one.
    if [[ ! -s $keys/health.keys ]]; then
        kt_say "making the health data master key"
        (umask 077 && printf '# Health data master keys (docs/health.md). The last one is current.\nk1 %s\n' \
            "$(openssl rand -base64 32)" >"$keys/health.keys.tmp")
        chmod 0600 "$keys/health.keys.tmp"
        mv "$keys/health.keys.tmp" "$keys/health.keys"
    fi
}

# For the tests: a client certificate with the regional system's subject, signed by a CA
# that nginx does not trust.
kt_ensure_untrusted_cert() {
    local tls=$1/tls
    if ! kt_pair_exists "$tls/untrusted-ca.key" "$tls/untrusted-ca.crt"; then
        kt_self_signed_ca "$tls/untrusted-ca.key" "$tls/untrusted-ca.crt" \
            "/C=RU/O=Somebody Else/CN=Untrusted CA"
    fi
    if ! kt_pair_exists "$tls/untrusted-client.key" "$tls/untrusted-client.crt"; then
        kt_client_cert "$tls/untrusted-ca.key" "$tls/untrusted-ca.crt" \
            "$tls/untrusted-client.key" "$tls/untrusted-client.crt" "$KT_REGION_SUBJECT"
    fi
}

# ---------------------------------------------------------------------------------------------
# Processes

# True when something listens on TCP PORT (any address); without ss, when something
# accepts connections on 127.0.0.1:PORT.
kt_port_busy() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

kt_require_free_port() {
    if kt_port_busy "$1"; then
        kt_die "port $1 ($2) is already in use on 127.0.0.1: stop what listens there (scripts/stop, if it is ours) or set $2"
    fi
}

# kt_alive PID [NAME]: PID is running (not a zombie) and, with NAME, runs a binary of that name.
kt_alive() {
    local pid=$1 name=${2:-} stat state exe
    kt_is_uint "$pid" && ((pid > 1)) || return 1
    # (Not $(<file): under set -e a missing file would end the script.)
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    # "pid (comm) state ...": comm may hold spaces and parentheses.
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z && $state != X ]] || return 1
    [[ -z $name ]] && return 0
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    exe=${exe% (deleted)}
    [[ ${exe##*/} == "$name" ]]
}

kt_started_pid() { cat "$KT_VAR/run/started/$1.pid" 2>/dev/null || true; }

# kt_spawn NAME LOG COMMAND...: starts COMMAND in a session of its own, output to LOG.
kt_spawn() {
    local name=$1 log=$2
    shift 2
    umask 077 # the log it creates, and whatever the process creates
    mkdir -p "$KT_VAR/run/started"
    setsid "$@" </dev/null >>"$log" 2>&1 &
    printf '%s\n' "$!" >"$KT_VAR/run/started/$name.pid"
}

kt_file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# kt_wait_for SECONDS PID NAME LOG OFFSET TEST...: until TEST succeeds; fails, showing what
# LOG gained past OFFSET, when PID dies first or time runs out.
kt_wait_for() {
    local seconds=$1 pid=$2 name=$3 log=$4 offset=$5 why=""
    shift 5
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ! kt_alive "$pid"; then
            why="exited during start-up"
        elif ((SECONDS >= deadline)); then
            why="did not come up within ${seconds}s"
        else
            sleep 0.1
            continue
        fi
        kt_warn "$name $why; its log ($log) says:"
        tail -c "+$((offset + 1))" "$log" 2>/dev/null | tail -n 30 >&2 || true
        return 1
    done
}

kt_ferret_socket_ready() { [[ -S $KT_FERRET_SOCKET ]]; }

# Writes $KT_VAR/run/ferretdb.sh, the one command line that starts this store (the tests
# use it to stop and start the store under the running workers), and runs it. FerretDB
# listens on KT_FERRET_SOCKET only (no TCP); started by root it runs as KT_USER, the
# workers' user, which alone may open the socket (0600) and the files (0600 in 0700).
kt_start_ferretdb() {
    local script=$KT_VAR/run/ferretdb.sh log=$KT_VAR/log/ferretdb.log dir
    dir=$(dirname "$KT_FERRET_SOCKET")
    mkdir -p "$dir" "$KT_VAR/data"
    # Under /tmp someone else may have made it first: it must be ours (or KT_USER's).
    [[ -O $dir || $(stat -c %U "$dir") == "$KT_USER" ]] || kt_die "$dir belongs to someone else"
    chmod 0700 "$dir" "$KT_VAR/data"
    kt_service_owns "$dir" "$KT_VAR/data"
    if [[ $(id -u) -eq 0 ]] &&
        ! setpriv --reuid="$KT_USER" --regid="$(id -gn "$KT_USER")" --clear-groups \
            test -w "$KT_VAR/data" -a -w "$dir" -a -x "$FERRETDB" 2>/dev/null; then
        kt_die "KT_USER $KT_USER cannot reach $KT_VAR/data, $dir or $FERRETDB: make the directories above them traversable (chmod o+x), or set KT_VAR, KT_FERRET_SOCKET, KT_USER"
    fi
    rm -f "$KT_FERRET_SOCKET" # nothing of ours runs (kt_any_running): a crash's leftover
    {
        printf '#!/usr/bin/env bash\n'
        printf '# Written by scripts/lib.sh: FerretDB for %s\n' "$KT_VAR"
        # 0177: Go creates the socket 0777 less the umask, so it is 0600 however the store
        # is started (also by the tests' store_start); FerretDB creates files only.
        printf 'umask 0177\n'
        printf 'rm -f %q\n' "$KT_FERRET_SOCKET"
        printf 'exec'
        if [[ $(id -u) -eq 0 ]]; then
            printf ' setpriv --reuid=%q --regid=%q --clear-groups' "$KT_USER" "$(id -gn "$KT_USER")"
        fi
        printf ' %q' "$FERRETDB" --handler=sqlite "--sqlite-url=file:$KT_VAR/data/" \
            "--state-dir=$KT_VAR/data" --listen-addr= "--listen-unix=$KT_FERRET_SOCKET" \
            --debug-addr=- --telemetry=disable --log-level=warn --log-format=json
        printf ' </dev/null >>%q 2>&1\n' "$log"
    } >"$script.tmp"
    chmod 0700 "$script.tmp"
    mv "$script.tmp" "$script"
    kt_say "starting FerretDB on $KT_FERRET_SOCKET (SQLite files in $KT_VAR/data)"
    local offset
    offset=$(kt_file_size "$log")
    kt_spawn ferretdb /dev/null "$script"
    kt_wait_for 30 "$(kt_started_pid ferretdb)" FerretDB "$log" "$offset" kt_ferret_socket_ready
}

# The SQLite store's file, ready before anything opens it. Its directory is 0700 and, started
# by root, KT_USER's: the workers drop to KT_USER, and SQLite creates the -wal and -shm files
# (and, in rollback mode, a -journal) next to the database, so the directory must be theirs
# to write. The file is made here, empty (an empty file is an empty database), 0600 and
# KT_USER's, so that the master and `kontingentctl init`, which run as root, never create it
# root's; when root opens a database, SQLite gives the -wal and -shm it creates the
# database file's owner and mode, so an operator's `kontingentctl` as root keeps them the
# workers'. (The file holds personal data: 0600 in 0700, like FerretDB's files.)
kt_prepare_sqlite() {
    local dir f
    dir=$(dirname "$KT_SQLITE")
    # A registry kept by FerretDB before SQLite became the default: never start on an
    # empty file beside it as if the registry were new (docs/operations.md, "Upgrading from
    # FerretDB").
    if [[ ! -s $KT_SQLITE && -s $KT_VAR/data/${KT_DB:-kontingent}.sqlite ]]; then
        kt_die "$KT_VAR/data/${KT_DB:-kontingent}.sqlite holds a registry kept by FerretDB and $KT_SQLITE none: migrate it first (KT_STORE=mongodb scripts/run -d; KT_STORE=mongodb build/release/kontingentctl migrate --to sqlite; scripts/stop), or keep it with KT_STORE=mongodb — docs/operations.md, \"Upgrading from FerretDB\""
    fi
    if [[ ! -d $dir ]]; then
        mkdir -p "$dir"
        chmod 0700 "$dir"
        kt_service_owns "$dir"
    fi
    if [[ $dir == "$KT_VAR/data" ]]; then chmod 0700 "$dir"; fi
    [[ -e $KT_SQLITE ]] || (umask 077 && : >>"$KT_SQLITE")
    for f in "$KT_SQLITE" "$KT_SQLITE-wal" "$KT_SQLITE-shm" "$KT_SQLITE-journal"; do
        if [[ -e $f ]]; then
            chmod 0600 "$f"
            kt_service_owns "$f"
        fi
    done
    if [[ $(id -u) -eq 0 ]] &&
        ! setpriv --reuid="$KT_USER" --regid="$(id -gn "$KT_USER")" --clear-groups \
            test -w "$dir" -a -w "$KT_SQLITE" 2>/dev/null; then
        kt_die "KT_USER $KT_USER cannot write $dir or $KT_SQLITE (SQLite creates its -wal and -shm files there): make the directory $KT_USER's (chown $KT_USER $dir; chmod 0700 $dir) and the directories above it traversable, or set KT_SQLITE, KT_USER"
    fi
}

# kt_store_init CTL: the store's tables or collections and indexes (`kontingentctl init`,
# store_prepare), before the workers start: a store that cannot be prepared is an error
# here, with its reason, not a warning in the workers' log.
kt_store_init() {
    local ctl=$1 out
    [[ -x $ctl ]] || kt_die "$ctl is not built"
    if [[ $KT_STORE == sqlite ]]; then kt_prepare_sqlite; fi
    if ! out=$("$ctl" init 2>&1); then
        printf '%s\n' "$out" >&2
        kt_die "kontingentctl init failed for the $KT_STORE store"
    fi
}

# kt_write_ctl_conf: $KT_VAR/kontingent.conf, the stack's settings as a configuration file
# (docs/operations.md, "The configuration file"), so that an operator's kontingentctl reads
# the store, keys and time zone the running workers use:
# KT_CONFIG=$KT_VAR/kontingent.conf build/release/kontingentctl verify.
kt_write_ctl_conf() {
    local f=$KT_VAR/kontingent.conf name
    {
        printf '# Written by scripts/run for the stack in %s: its settings, for kontingentctl.
' "$KT_VAR"
        for name in KT_VAR KT_STORE KT_SQLITE MONGODB_URI KT_DB KT_SOCKET KT_PID_FILE \
            KT_TOKEN_ALG KT_TOKEN_PUBLIC_KEY KT_TOKEN_PRIVATE_KEY KT_CLIENT_MAP KT_TIMEZONE \
            KT_WORKERS KT_THREADS KT_MAX_BODY KT_MAX_PACKAGE KT_USER KT_SOCKET_GROUP; do
            if [[ -n ${!name} ]]; then printf '%s="%s"\n' "$name" "${!name}"; fi
        done
    } >"$f.tmp"
    chmod 0600 "$f.tmp"
    mv "$f.tmp" "$f"
}

# kt_store_says: one line naming the store in use.
kt_store_says() {
    if [[ $KT_STORE == sqlite ]]; then
        kt_say "store: SQLite, embedded (KT_STORE=sqlite), file $KT_SQLITE"
    elif ((KT_OWN_FERRETDB)); then
        kt_say "store: MongoDB protocol (KT_STORE=mongodb), FerretDB of ours on $KT_FERRET_SOCKET"
    else
        kt_say "store: MongoDB (KT_STORE=mongodb) at MONGODB_URI (no FerretDB started)"
    fi
}

# kt_start_fcgi BINARY [NAME=VALUE...]: the master forks KT_WORKERS workers of KT_THREADS
# threads each; NAME=VALUE are set for it alone.
kt_start_fcgi() {
    local bin=$1 log=$KT_VAR/log/kontingent.log pid
    shift
    [[ -x $bin ]] || kt_die "$bin is not built"
    pid=$(cat "$KT_PID_FILE" 2>/dev/null || true)
    if [[ -n $pid ]] && kt_alive "$pid" kontingent-fcgi; then
        kt_die "kontingent-fcgi already runs for $KT_VAR (pid $pid): scripts/stop first"
    fi
    # The master opens the store as root: the SQLite file must be KT_USER's before it does
    # (also for callers that ran no kt_store_init).
    if [[ $KT_STORE == sqlite ]]; then kt_prepare_sqlite; fi
    # Nothing of ours listens there (checked above): a socket left by a crash is stale.
    if [[ -S $KT_SOCKET ]]; then rm -f "$KT_SOCKET"; fi
    mkdir -p "$(dirname "$KT_SOCKET")"
    chmod 0711 "$(dirname "$KT_SOCKET")"
    kt_say "starting kontingent-fcgi: $KT_WORKERS workers x $KT_THREADS threads on $KT_SOCKET"
    local offset
    offset=$(kt_file_size "$log")
    kt_spawn kontingent-fcgi "$log" env KT_SOCKET_GROUP="$KT_SOCKET_GROUP" "$@" "$bin"
    kt_wait_for 60 "$(kt_started_pid kontingent-fcgi)" kontingent-fcgi "$log" "$offset" \
        test -S "$KT_SOCKET"
}

# The *_temp_path lines for the modules this nginx was built with.
kt_nginx_temp_paths() {
    local v mod tmp=$KT_VAR/run/nginx
    v=$(nginx -V 2>&1)
    printf '    client_body_temp_path %s;\n' "$tmp/client_body"
    for mod in fastcgi proxy scgi uwsgi; do
        [[ $v == *"--without-http_${mod}_module"* ]] ||
            printf '    %s_temp_path %s;\n' "$mod" "$tmp/$mod"
    done
}

# The `user` line: started as root, nginx's workers run as KT_NGINX_USER, who must reach
# the workers' socket and read the console's files.
kt_nginx_user_line() {
    [[ $(id -u) -eq 0 ]] || return 0
    local group
    group=$(id -gn "$KT_NGINX_USER")
    if [[ $KT_NGINX_USER != root ]] &&
        ! setpriv --reuid="$KT_NGINX_USER" --regid="$group" --clear-groups \
            test -x "$(dirname "$KT_SOCKET")" -a -r "$KT_REPO/web/index.html" 2>/dev/null; then
        kt_die "nginx's user $KT_NGINX_USER cannot reach $(dirname "$KT_SOCKET") or read $KT_REPO/web/: make them traversable and readable (chmod o+x on the directories above), set KT_SOCKET and KT_NGINX_USER, or set KT_NGINX_USER=root to run nginx's workers as root"
    fi
    printf 'user %s %s;' "$KT_NGINX_USER" "$group"
}

# Renders nginx/kontingent.conf.in into OUT (default $KT_VAR/run/nginx.conf).
kt_render_nginx_conf() {
    local tpl out=${1:-$KT_VAR/run/nginx.conf} user_line rate_on=1
    tpl=$(<"$KT_REPO/nginx/kontingent.conf.in")
    user_line=$(kt_nginx_user_line) || exit 1
    if ((KT_RATE_LIMIT == 0)); then rate_on=0; fi
    tpl=${tpl//@KT_NGINX_USER@/"$user_line"}
    tpl=${tpl//@KT_TEMP_PATHS@/"$(kt_nginx_temp_paths)"}
    tpl=${tpl//@KT_PORT@/"$KT_PORT"}
    tpl=${tpl//@KT_VAR@/"$KT_VAR"}
    tpl=${tpl//@KT_REPO@/"$KT_REPO"}
    tpl=${tpl//@KT_SOCKET@/"$KT_SOCKET"}
    tpl=${tpl//@KT_CLIENT_MAX_BODY@/"$((KT_MAX_BODY + 1048576))"}
    tpl=${tpl//@KT_CLIENT_MAX_PACKAGE@/"$((KT_MAX_PACKAGE + 1048576))"}
    tpl=${tpl//@KT_RATE_ON@/"$rate_on"}
    tpl=${tpl//@KT_RATE_LIMIT@/"$((KT_RATE_LIMIT > 0 ? KT_RATE_LIMIT : 1))"}
    tpl=${tpl//@KT_RATE_BURST@/"$KT_RATE_BURST"}
    if [[ $tpl =~ @KT_[A-Z_]+@ ]]; then
        kt_die "nginx/kontingent.conf.in: no value for ${BASH_REMATCH[0]}"
    fi
    printf '%s\n' "$tpl" >"$out.tmp"
    mv "$out.tmp" "$out"
}

kt_start_nginx() {
    local conf=$KT_VAR/run/nginx.conf prefix=$KT_VAR/run/nginx/ log=$KT_VAR/log/nginx-error.log
    command -v nginx >/dev/null 2>&1 || kt_die "nginx is not installed"
    kt_require_free_port "$KT_PORT" KT_PORT
    mkdir -p "$prefix"
    chmod 0711 "$prefix" # nginx makes its temp directories below it for its workers' user
    kt_render_nginx_conf
    local out
    if ! out=$(nginx -t -q -c "$conf" -p "$prefix" -e "$log" 2>&1); then
        printf '%s\n' "$out" >&2
        kt_die "nginx rejects $conf"
    fi
    kt_say "starting nginx on https://127.0.0.1:$KT_PORT/"
    local offset
    offset=$(kt_file_size "$log")
    kt_spawn nginx "$log" nginx -c "$conf" -p "$prefix" -e "$log"
    kt_wait_for 30 "$(kt_started_pid nginx)" nginx "$log" "$offset" kt_port_busy "$KT_PORT"
}

kt_health_code() {
    curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$KT_PORT/api/v1/health" 2>/dev/null || true
}

kt_health_ok() { [[ $(kt_health_code) == 200 ]]; }

# Until /api/v1/health answers 200; on time-out shows the logs' ends.
kt_wait_health() {
    local seconds=${1:-60} deadline f
    deadline=$((SECONDS + seconds))
    until kt_health_ok; do
        if ((SECONDS >= deadline)); then
            kt_warn "https://127.0.0.1:$KT_PORT/api/v1/health did not answer 200 within ${seconds}s (last: $(kt_health_code))"
            for f in kontingent.log nginx-error.log ferretdb.log; do
                if [[ -s $KT_VAR/log/$f ]]; then
                    printf -- '--- end of %s\n' "$KT_VAR/log/$f" >&2
                    tail -n 20 "$KT_VAR/log/$f" >&2
                fi
            done
            return 1
        fi
        sleep 0.2
    done
    if ((KT_OWN_FERRETDB)); then kt_ferretdb_id_indexes; fi
}

# FerretDB 1.24's SQLite backend pushes a {_id: ...} filter down as
# `_ferretdb_sjson->'$._id' = ?` but indexes _id as `_ferretdb_sjson->"_id"`; SQLite cannot
# use that index for that expression, so every _id lookup scans its whole table. An index
# on the pushed-down expression turns those lookups into index searches (docs/storage.md,
# "What the embedded store costs"). The master creates every collection before the
# workers start, so by the time health answers the tables exist; idempotent.
kt_ferretdb_id_indexes() {
    local db=$KT_VAR/data/${KT_DB:-kontingent}.sqlite table
    [[ -f $db ]] || return 0
    while read -r table; do
        [[ -n $table ]] || continue
        sqlite3 -cmd '.timeout 15000' "$db" \
            "CREATE UNIQUE INDEX IF NOT EXISTS \"${table}_kt_id\" ON \"$table\" (_ferretdb_sjson->'\$._id')" >/dev/null
    done < <(sqlite3 -cmd '.timeout 15000' "$db" \
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\_ferretdb%' ESCAPE '\\'")
}

# kt_stop_one NAME BINARY SIGNAL SECONDS: signal, wait, then kill the whole session.
kt_stop_one() {
    local name=$1 bin=$2 sig=$3 seconds=$4 pidfile=$KT_VAR/run/started/$1.pid pid deadline
    [[ -f $pidfile ]] || return 0
    read -r pid <"$pidfile" || true
    if kt_alive "$pid" "$bin"; then
        kt_say "stopping $name (pid $pid)"
        kill "-$sig" "$pid" 2>/dev/null || true
        deadline=$((SECONDS + seconds))
        while kt_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if kt_alive "$pid"; then
            kt_warn "$name did not stop within ${seconds}s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Whatever it left in its session (workers of a master that died), by process group.
    if kt_is_uint "$pid" && ((pid > 1)); then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
}

# Stops what this KT_VAR's start functions started: nginx first (no new requests), then the
# workers (they drain what they hold), then the store. Idempotent.
kt_stop_all() {
    kt_stop_one nginx nginx QUIT 15
    kt_stop_one kontingent-fcgi kontingent-fcgi TERM 30
    kt_stop_one ferretdb ferretdb TERM 15
    kt_stop_one log-tail tail TERM 5
    rm -f "$KT_VAR/run/nginx.pid"
}

# Something this KT_VAR's start functions started is still running.
kt_any_running() {
    local name bin
    for name in nginx:nginx kontingent-fcgi:kontingent-fcgi ferretdb:ferretdb; do
        bin=${name#*:}
        name=${name%%:*}
        kt_alive "$(kt_started_pid "$name")" "$bin" && return 0
    done
    return 1
}
