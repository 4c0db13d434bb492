#!/bin/sh
# Runs the demo in the foreground: php-fpm on examples/demo/php-fpm.conf
# (pool "demo"), then relaisd on examples/demo/relaisd.conf at
# http://127.0.0.1:8080 (PORT=8081 to change), *.php handed to the pool's
# socket. Ctrl-C (or SIGTERM to this script) stops everything.
#   scripts/run-example.sh [build-dir]        (`make run` passes "build")
# Logs, pid files and the FastCGI socket go to <build-dir>/demo-logs/
# (DEMO_LOGS=/abs/dir to change), so the checkout stays clean and nothing
# needs to be writable in examples/. The PHP half is <build-dir>/relais-fpm
# (PHP_FPM=path to choose another, e.g. /usr/sbin/php-fpm8.2; PHP_FPM=none
# for none); without either, the static pages only.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
port=${PORT:-8080}
demo="$root/examples/demo"
logs=${DEMO_LOGS:-$build/demo-logs}
case $logs in /*) ;; *) logs="$root/$logs" ;; esac
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

# The PHP half (started below): relais-fpm from the build, else Debian's
# php-fpm (PHP_FPM=/usr/sbin/php-fpm8.2 to compare); both read the same file.
fpm=${PHP_FPM:-}
if [ -z "$fpm" ]; then
    if [ -x "$build/relais-fpm" ]; then fpm="$build/relais-fpm"
    elif [ -x /usr/sbin/php-fpm8.2 ]; then fpm=/usr/sbin/php-fpm8.2
    fi
elif [ "$fpm" != none ] && [ ! -x "$fpm" ]; then
    echo "run-example: PHP_FPM=$fpm is not an executable" >&2
    exit 1
fi

pids=""
stop() {
    trap - INT TERM EXIT
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    # Give each one 10 s, then SIGKILL to its whole session (setsid made it
    # a process group: workers included): Ctrl-C never leaves anything behind.
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if kill -0 "$p" 2>/dev/null; then
            kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
        fi
    done
    echo
    echo "relais demo stopped (logs in $logs)"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- relais-fpm / php-fpm ----------------------------------------------------
# Both read php-fpm's command line and pool format: -F foreground, -y config,
# -p prefix (every relative path of php-fpm.conf: socket, pid, log). Started
# first, in its own session, and stopped by pid like relaisd.
sock="$logs/php-fpm.sock"
nophp=""

# True if something listens on the unix socket <path> (/proc/net/unix, flag
# __SO_ACCEPTCON): the file alone exists between bind() and listen().
unix_listening() {
    awk -v p=" $1" '$4 ~ /^0*10000$/ && substr($0, length($0) - length(p) + 1) == p { f = 1 }
                    END { exit !f }' \
        /proc/net/unix 2>/dev/null
}

if [ -n "$fpm" ] && [ "$fpm" != none ]; then
    # A socket left by a killed run would look ready before php-fpm is.
    rm -f "$sock" "$logs/php-fpm.pid"
    : >"$logs/php-fpm.stderr"
    # php-fpm appends to its log: on failure, show only what this run wrote.
    fpmlog_lines=$({ wc -l <"$logs/php-fpm.log"; } 2>/dev/null || echo 0)
    setsid "$fpm" -F -y "$demo/php-fpm.conf" -p "$logs" \
        >>"$logs/php-fpm.stderr" 2>&1 </dev/null &
    phpfpm=$!
    pids="$pids $phpfpm"
    i=0
    until unix_listening "$sock"; do
        if ! kill -0 "$phpfpm" 2>/dev/null || [ $i -gt 100 ]; then
            if kill -0 "$phpfpm" 2>/dev/null; then
                echo "run-example: $fpm is not listening on $sock after 10 s" >&2
            else
                echo "run-example: $fpm exited" >&2
            fi
            if [ -s "$logs/php-fpm.stderr" ]; then
                echo "--- $logs/php-fpm.stderr:" >&2
                tail -n 20 "$logs/php-fpm.stderr" >&2
            fi
            new=$(tail -n +$((fpmlog_lines + 1)) "$logs/php-fpm.log" 2>/dev/null | tail -n 20)
            if [ -n "$new" ]; then
                printf -- '--- %s:\n%s\n' "$logs/php-fpm.log" "$new" >&2
            fi
            exit 1
        fi
        i=$((i + 1))
        sleep 0.1
    done
else
    [ -z "$fpm" ] && echo "run-example: no php-fpm (/usr/sbin/php-fpm8.2 is" \
        "missing): static pages only; scripts/deps.sh installs php8.2-fpm" >&2
    nophp="-DRELAIS_NO_PHP"
fi

# --- relaisd ----------------------------------------------------------------
# setsid: the terminal's Ctrl-C reaches this script only, which then stops the
# server by its pid (SIGTERM), like apachectl stop.
setsid "$relaisd" -DFOREGROUND ${nophp:+"$nophp"} -d "$demo" -f "$demo/relaisd.conf" \
    -C "Define DEMO_ROOT $demo" -C "Define RELAIS_LOGS $logs" \
    -C "Define PHP_FPM_SOCKET $sock" -C "Define RELAIS_PORT $port" &
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
[ -z "$nophp" ] && echo "  PHP: $fpm, pool \"demo\" on $sock"
echo "  second virtual host: curl -H 'Host: docs.localhost' http://127.0.0.1:$port/"
echo "  logs: $logs"
# Returns when relaisd exits, or when Ctrl-C runs the INT trap.
wait "$httpd" || true
