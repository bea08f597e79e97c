#!/usr/bin/env bash
# tests/package/test_package.sh build|install: the Debian package (packaging/package.cmake).
#
#   build    builds the release programs and the .deb (cpack) into build/package/, then
#            checks it with dpkg-deb: its files, its conffiles, its maintainer scripts, its
#            Depends (the runtime libraries and nginx; nothing of the tests: no Chromium,
#            Node.js, npm, Python or Go), its version (CMakeLists.txt's, which the
#            programs report), and the units with systemd-analyze when there is one.
#   install  installs that .deb with apt-get on this machine, starts the service as its
#            units say, asks GET /api/v1/health through the package's nginx, issues a
#            token with the installed kontingentctl (which reads the service's
#            /etc/kontingent/kontingent.conf) and calls /api/v1/whoami with it, and
#            fetches /api/v1/openapi.json; then
#            stops what it started, purges the package and removes what the purge keeps
#            (/var/lib/kontingent, the user kontingent).
#
# install changes the machine, so it runs only where that is wanted (exit 77, skipped,
# otherwise): KT_TEST_PACKAGE=1 always (as root), KT_TEST_PACKAGE=0 never, and unset (as in
# CI, which runs scripts/test as is) only on a machine that looks throwaway: root, systemd
# not running (a container, like CI's), no kontingent package or /etc/kontingent already
# there, port 8443 free. Without systemd the units' commands are run as the units would
# (User, SupplementaryGroups, Environment, RuntimeDirectory, StateDirectory, ExecStartPre,
# ExecStart, StandardOutput) — docs/operations.md, "Install from the package".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
out=$repo/build/package
mode=${1:-}

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

version=$(sed -n 's/^project(kontingent VERSION \([0-9.]*\) .*/\1/p' "$repo/CMakeLists.txt")
[[ -n $version ]] || fail "no version in CMakeLists.txt"

build() {
    local deb info contents
    cd "$repo"
    rm -rf "$out"
    mkdir -p "$out"
    {
        if [[ ! -f build/release/build.ninja ]]; then cmake --preset release; fi
        cmake --build --preset release --target kontingent-fcgi kontingentctl kontingent-nginx-conf
    } >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; fail "the release build failed"; }
    (cd build/release && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) ||
        { cat "$out/cpack.log" >&2; fail "cpack failed"; }
    deb=$(ls "$out"/kontingent_"$version"_*.deb 2>/dev/null | head -n 1)
    [[ -n $deb ]] || fail "no kontingent_${version}_*.deb in $out"
    info=$(dpkg-deb --info "$deb")
    contents=$(dpkg-deb --contents "$deb")
    grep -q "^ Version: $version$" <<<"$info" || fail "the package's version is not $version"
    local depends
    depends=$(dpkg-deb --field "$deb" Depends)
    printf 'Depends: %s\n' "$depends"
    local want
    for want in nginx libsqlite3 libxml2 libssl3 libfcgi libmongoc libbson openssl adduser; do
        grep -q "$want" <<<"$depends" || fail "Depends lacks $want: $depends"
    done
    if grep -qiE 'chromium|node|npm|python|golang|\bgo\b|clang|cmake|-dev\b' <<<"$depends"; then
        fail "Depends names a build or test dependency: $depends"
    fi
    local path
    for path in ./usr/sbin/kontingent-fcgi ./usr/bin/kontingentctl \
        ./usr/share/kontingent/xsd/kontingent-exchange-1.xsd ./usr/share/kontingent/web/index.html \
        ./etc/kontingent/kontingent.conf ./etc/kontingent/nginx.conf ./etc/logrotate.d/kontingent \
        ./lib/systemd/system/kontingent.service ./lib/systemd/system/kontingent-nginx.service \
        ./usr/share/doc/kontingent/operations.md ./usr/share/doc/kontingent/CHANGELOG.md; do
        grep -q " $path$" <<<"$contents" || fail "the package lacks $path"
    done
    # Nothing of the tests, the build or the repository's own state.
    if grep -qE '/(tests|node_modules|build|var)/|\.venv' <<<"$contents"; then
        fail "the package holds test or build files: $(grep -E '/(tests|node_modules|build|var)/|\.venv' <<<"$contents" | head -n 3)"
    fi
    local x
    x=$(mktemp -d)
    dpkg-deb --control "$deb" "$x/control"
    for path in postinst prerm postrm conffiles; do
        [[ -f $x/control/$path ]] || fail "the package has no $path"
    done
    grep -qx /etc/kontingent/kontingent.conf "$x/control/conffiles" || fail "kontingent.conf is not a conffile"
    grep -qx /etc/kontingent/nginx.conf "$x/control/conffiles" || fail "nginx.conf is not a conffile"
    sh -n "$x/control/postinst" && sh -n "$x/control/prerm" && sh -n "$x/control/postrm"
    # The rendered nginx.conf has no placeholder left.
    dpkg-deb --extract "$deb" "$x/root"
    if grep -v '^#' "$x/root/etc/kontingent/nginx.conf" | grep -q '@KT_'; then
        fail "nginx.conf keeps a placeholder"
    fi
    [[ $("$x/root/usr/bin/kontingentctl" --version) == "kontingentctl $version" ]] ||
        fail "kontingentctl --version is not $version"
    # The units: every key known, every value valid (the package's own programs, not
    # installed here, aside).
    if command -v systemd-analyze >/dev/null 2>&1; then
        local said
        said=$(systemd-analyze verify "$x/root/lib/systemd/system/kontingent.service" \
            "$x/root/lib/systemd/system/kontingent-nginx.service" 2>&1 |
            grep -vE 'Command /usr/s?bin/(kontingent-fcgi|kontingentctl) is not executable' || true)
        [[ -z $said ]] || fail "systemd-analyze verify: $said"
    fi
    rm -rf "$x"
    printf 'built and checked %s\n' "$deb"
}

# --- install ---------------------------------------------------------------------------

install_wanted() {
    case ${KT_TEST_PACKAGE:-} in
    1)
        [[ $(id -u) -eq 0 ]] || fail "KT_TEST_PACKAGE=1: installing needs root"
        return 0
        ;;
    0) why="KT_TEST_PACKAGE=0" ;;
    "")
        if [[ $(id -u) -ne 0 ]]; then
            why="not root"
        elif [[ -d /run/systemd/system ]]; then
            why="systemd runs here (a workstation, not a throwaway machine): KT_TEST_PACKAGE=1 to install anyway"
        elif dpkg-query -W kontingent >/dev/null 2>&1 || [[ -e /etc/kontingent ]]; then
            why="kontingent is installed here already"
        elif (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; then
            why="port 8443 is in use"
        else
            return 0
        fi
        ;;
    *) fail "KT_TEST_PACKAGE must be 0 or 1" ;;
    esac
    printf 'SKIP: installing the package: %s\n' "$why"
    return 1
}

unit_value() { sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -n 1; }

started=()
cleanup() {
    local pid
    for pid in "${started[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ ${installed:-0} == 1 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kontingent >/dev/null 2>&1 || true
        # What a purge keeps on purpose (the registry, the user): this was a test's.
        rm -rf /var/lib/kontingent /run/kontingent /run/kontingent-nginx
        if getent passwd kontingent >/dev/null; then deluser --quiet --system kontingent >/dev/null 2>&1 || true; fi
        if getent group kontingent >/dev/null; then delgroup --quiet --system kontingent >/dev/null 2>&1 || true; fi
    fi
}

# run_unit UNIT: without systemd, what the unit would run, as it would run it.
run_unit() {
    local unit=$1 user group groups env dir mode pre start outfile
    user=$(unit_value "$unit" User)
    group=$(unit_value "$unit" Group)
    groups=$(unit_value "$unit" SupplementaryGroups)
    env=$(unit_value "$unit" Environment)
    dir=$(unit_value "$unit" RuntimeDirectory)
    mode=$(unit_value "$unit" RuntimeDirectoryMode)
    pre=$(unit_value "$unit" ExecStartPre)
    start=$(unit_value "$unit" ExecStart)
    outfile=$(unit_value "$unit" StandardOutput)
    outfile=${outfile#append:}
    [[ -n $outfile ]] || outfile=/var/log/kontingent/$unit.out
    install -d -m "${mode:-0755}" -o "${user:-root}" -g "${group:-root}" "/run/$dir"
    dir=$(unit_value "$unit" StateDirectory)
    mode=$(unit_value "$unit" StateDirectoryMode)
    install -d -m "${mode:-0755}" -o "${user:-root}" -g "${group:-root}" "/var/lib/$dir"
    local as=()
    if [[ -n $user ]]; then
        as=(setpriv --reuid="$user" --regid="${group:-$user}" --init-groups)
        # shellcheck disable=SC2206
        if [[ -n $groups ]]; then as=(setpriv --reuid="$user" --regid="${group:-$user}" --groups="$groups"); fi
    fi
    # shellcheck disable=SC2086
    if [[ -n $pre ]]; then env $env "${as[@]}" $pre >>"$outfile" 2>&1 || fail "$unit: ExecStartPre failed: $(tail -n 5 "$outfile")"; fi
    # shellcheck disable=SC2086
    setsid env $env "${as[@]}" $start </dev/null >>"$outfile" 2>&1 &
    started+=($!)
}

install_and_serve() {
    local deb code body token
    deb=$(ls "$out"/kontingent_"$version"_*.deb 2>/dev/null | head -n 1)
    [[ -n $deb ]] || fail "build the package first ($0 build)"
    install_wanted || exit 77
    trap cleanup EXIT
    installed=1
    # Its dependencies are installed already on a machine that built it, unless one of the
    # few the build does not need (adduser, say) is missing: then the package lists first.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" \
        >"$out/apt.log" 2>&1; then
        { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb"; } \
            >>"$out/apt.log" 2>&1 || { tail -n 30 "$out/apt.log" >&2; fail "apt-get install $deb failed"; }
    fi
    [[ $(stat -c %a /var/lib/kontingent/data/kontingent.db) == 600 ]] || fail "the store's file is not 0600"
    [[ $(stat -c %U /var/lib/kontingent/data/kontingent.db) == kontingent ]] || fail "the store's file is not kontingent's"
    if [[ ! -d /run/systemd/system ]]; then
        run_unit kontingent.service
        for _ in $(seq 1 300); do [[ -S /run/kontingent/kontingent.sock ]] && break; sleep 0.1; done
        run_unit kontingent-nginx.service
    fi
    for _ in $(seq 1 300); do
        code=$(curl -sk -o "$out/health.json" -w '%{http_code}' --max-time 5 https://127.0.0.1:8443/api/v1/health || true)
        [[ $code == 200 ]] && break
        sleep 0.2
    done
    [[ $code == 200 ]] || fail "GET /api/v1/health answered ${code:-nothing}; logs: $(tail -n 20 /var/log/kontingent/*.log 2>/dev/null)"
    body=$(cat "$out/health.json")
    grep -q "\"version\":\"$version\"" <<<"$body" || fail "health does not report $version: $body"
    token=$(kontingentctl token issue --role admin --ttl 5m)
    code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" https://127.0.0.1:8443/api/v1/whoami)
    [[ $code == 200 ]] || fail "whoami with the installed kontingentctl's token answered $code"
    # The API's description is built into the server: the package serves it too.
    code=$(curl -sk -o "$out/openapi.json" -w '%{http_code}' https://127.0.0.1:8443/api/v1/openapi.json)
    [[ $code == 200 ]] && grep -q '"openapi"' "$out/openapi.json" ||
        fail "GET /api/v1/openapi.json answered $code"
    printf 'installed %s; it serves: %s\n' "$deb" "$body"
}

case $mode in
build) build ;;
install) install_and_serve ;;
*)
    sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
