#!/bin/sh
# Runs the demo in the foreground: relaisd on examples/demo/relaisd.conf at
# http://127.0.0.1:8080 (PORT=8081 to change). Ctrl-C stops everything.
#   scripts/run-example.sh [build-dir]        (`make run` passes "build")
# Logs and the pid file go to <build-dir>/demo-logs/, so the checkout stays
# clean and nothing needs to be writable in examples/.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
port=${PORT:-8080}
demo="$root/examples/demo"
logs="$build/demo-logs"
relaisd="$build/relaisd"

if [ ! -x "$relaisd" ]; then
    echo "run-example: $relaisd is missing: build it first (make)" >&2
    exit 1
fi
# True if something listens on TCP <port> (read from /proc: no probe request).
listening() {
    awk -v p="$(printf ':%04X' "$1")" \
        '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

if listening "$port"; then
    echo "run-example: port $port is in use; try PORT=8081 make run" >&2
    exit 1
fi
mkdir -p "$logs"

# Workers drop to www-data when we are root: it must be able to read the site.
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null &&
   ! runuser -u www-data -- test -r "$demo/htdocs/index.html" 2>/dev/null; then
    echo "run-example: warning: user www-data cannot read $demo/htdocs" \
         "(check the permissions of its parent directories): expect 403s" >&2
fi

pids=""
stop() {
    trap - INT TERM EXIT
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    # Give each one 10 s, then SIGKILL: Ctrl-C never leaves anything behind.
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null || true
    done
    echo
    echo "relais demo stopped (logs in $logs)"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- relais-fpm -------------------------------------------------------------
# The PHP half joins here: when build/relais-fpm and examples/demo/php-fpm.conf
# exist, start it first (foreground, its own session) and add its pid to $pids;
# relaisd.conf then proxies *.php to its socket. Nothing to start until then.
fpm="$build/relais-fpm"
if [ -x "$fpm" ] && [ -f "$demo/php-fpm.conf" ]; then
    # php-fpm's command line: -F foreground, -y config, -p prefix.
    setsid "$fpm" -F -y "$demo/php-fpm.conf" -p "$logs" &
    pids="$pids $!"
fi

# --- relaisd ----------------------------------------------------------------
# setsid: the terminal's Ctrl-C reaches this script only, which then stops the
# server by its pid (SIGTERM), like apachectl stop.
setsid "$relaisd" -DFOREGROUND -d "$demo" -f "$demo/relaisd.conf" \
    -C "Define DEMO_ROOT $demo" -C "Define RELAIS_LOGS $logs" \
    -C "Define RELAIS_PORT $port" &
httpd=$!
pids="$pids $httpd"

i=0
until listening "$port"; do
    if ! kill -0 "$httpd" 2>/dev/null; then
        echo "run-example: relaisd exited; $logs/error.log says:" >&2
        tail -n 20 "$logs/error.log" >&2 2>/dev/null || true
        exit 1
    fi
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "run-example: relaisd is not listening on port $port after 10 s" >&2
        exit 1
    fi
    sleep 0.1
done

echo "relais demo on http://127.0.0.1:$port (Ctrl-C stops)"
echo "  second virtual host: curl -H 'Host: docs.localhost' http://127.0.0.1:$port/"
echo "  logs: $logs"
# Returns when relaisd exits, or when Ctrl-C runs the INT trap.
wait "$httpd" || true
