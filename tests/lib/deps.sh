# deps.sh: install what building, serving and testing sluice needs, from
# Debian's packages.  Sourced by tests/run and examples/serve-demo.

SLUICE_DEB_PACKAGES="build-essential autoconf automake libtool pkg-config
libuv1-dev libjson-c-dev libpcre2-dev check libfcgi-dev libfcgi-bin libinih-dev
nginx caddy curl python3 python3-prometheus-client procps wrk strace
clang libclang-rt-14-dev libsqlite3-dev
chromium"

install_deps() {
    missing=""
    for p in $SLUICE_DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $p"
    done
    # Node.js and npm (the OpenAPI validator, the docs page's browser
    # test): Debian's, unless the machine has its own (NodeSource's nodejs
    # carries npm and conflicts with Debian's npm package).
    command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
    [ -z "$missing" ] && return 0
    echo "installing:$missing"
    # Packages must not start their services (nginx on port 80) as they
    # install: we start our own nginx and caddy.
    policy=/usr/sbin/policy-rc.d
    made_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
        made_policy=yes
    fi
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    rc=$?
    [ "$made_policy" = yes ] && rm -f "$policy"
    return $rc
}
