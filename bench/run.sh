#!/usr/bin/env bash
# relais side-by-side benchmark: relaisd, nginx and Apache (event MPM) serve
# the same 1 KB file from temporary configurations on free loopback ports, in
# one run, then the same two PHP scripts (hello world, phpinfo()) through
# php-fpm over FastCGI. The static and PHP measurements are interleaved and
# repeated: ROUNDS rounds, each running every server once, in an order that
# rotates from round to round; medians are reported. Two more phases, in
# rounds too: the cost of .htaccess lookups (relaisd and Apache, the 1 KB file
# with AllowOverride None then All) and WordPress' front page (relaisd and
# Apache, same php-fpm pool, MariaDB). A last phase, FPM, compares relais-fpm
# with Debian's php-fpm behind the same nginx, same pool, same php.ini, in
# rounds too: req/s, FPM CPU per request, memory per child and of the tree.
# See bench/README.md.
#
#   bench/run.sh [BUILD_DIR] [--record] [--quick]      (`make bench` passes "build")
#     --record  append a dated section to bench/RESULTS.md
#     --quick   3 s runs, 1 round, 1,000 idle connections (a smoke test)
#   Environment: DURATION (10) WARMUP (2) CONNS (50) IDLE_N (5000) HOLD (5)
#                ROUNDS (3: static, .htaccess, PHP, WordPress rounds; --quick: 1)
#                SERVERS ("relaisd nginx apache") KEEP=1 (keep the temp dir)
#                RELAISD_EXTRA (directives appended to relaisd's config)
#                PHP_CHILDREN (4: php-fpm's pm.max_children) PHP_CONNS (CONNS)
#                NO_PHP=1 (skip the PHP phase)
#                PHP_REUSE=0 (skip relaisd's PHP phase with kept FastCGI connections)
#                PHP_STACK=0 (skip the PHP row "relais": relaisd in front of relais-fpm)
#                NO_HTACCESS=1 (skip the AllowOverride None/All phase)
#                NO_WP=1 (skip the WordPress phase) WP_CONNS (8: its wrk connections)
#                NO_FPM=1 (skip the relais-fpm vs php-fpm phase)
#                FPM_ONLY=1 (run only that phase: about 1 min per round)
#                FPM_SETSID=0 (start the FPMs without setsid: see fpm_phase)
#
# Servers are started and stopped by PID from a temp prefix (never service or
# systemctl, never port 80), on 127.0.0.1 only. Every step is bounded; a
# watchdog ends the run (after about 2,090 s at the defaults: WATCHDOG_S).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=build
RECORD=0
for a in "$@"; do
    case $a in
        --record) RECORD=1 ;;
        --quick) DURATION=${DURATION:-3}; WARMUP=${WARMUP:-1}; IDLE_N=${IDLE_N:-1000}
                 ROUNDS=${ROUNDS:-1} ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        -*) echo "bench: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$a ;;
    esac
done
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-50}
IDLE_N=${IDLE_N:-5000}
HOLD=${HOLD:-5}
ROUNDS=${ROUNDS:-3}
case $ROUNDS in ''|*[!0-9]*|0) echo "bench: ROUNDS must be a number >= 1" >&2; exit 2 ;; esac
SERVERS=${SERVERS:-relaisd nginx apache}
PHP_CHILDREN=${PHP_CHILDREN:-4}
PHP_CONNS=${PHP_CONNS:-$CONNS}
NO_PHP=${NO_PHP:-0}
PHP_REUSE=${PHP_REUSE:-1}
PHP_STACK=${PHP_STACK:-1}
NO_HTACCESS=${NO_HTACCESS:-0}
NO_WP=${NO_WP:-0}
WP_CONNS=${WP_CONNS:-8}
NO_FPM=${NO_FPM:-0}
FPM_ONLY=${FPM_ONLY:-0}
FPM_SETSID=${FPM_SETSID:-1}
if [ "$FPM_ONLY" = 1 ]; then
    # the FPM phase alone: no static, .htaccess, idle, PHP or WordPress phase
    NO_FPM=0; NO_PHP=1; NO_HTACCESS=1; NO_WP=1
fi
WP_SETUP_S=240      # bound of the WordPress setup (MariaDB, copy, web installer)
PHP_FPM=/usr/sbin/php-fpm8.2
RELAIS_FPM=$BUILD/relais-fpm
IDLE_KA=60          # keep-alive timeout of the idle-connection phase
PY=/usr/bin/python3

for tool in wrk nginx apache2 cc "$PY"; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "bench: $tool is missing: run scripts/deps.sh bench" >&2
        exit 1
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)
if [ "$NO_PHP" != 1 ] && [ ! -x "$PHP_FPM" ]; then
    echo "bench: $PHP_FPM is missing (scripts/deps.sh installs php8.2-fpm): no PHP phase" >&2
    NO_PHP=1
fi
if [ "$NO_FPM" != 1 ] && [ ! -x "$PHP_FPM" ]; then
    echo "bench: $PHP_FPM is missing (scripts/deps.sh installs php8.2-fpm): no FPM phase" >&2
    NO_FPM=1
fi
WP_MISSING=""
if [ "$NO_WP" != 1 ] && ! WP_MISSING=$("$PY" bench/wordpress.py check 2>&1); then
    echo "bench: no WordPress phase: ${WP_MISSING#wordpress.py: }" >&2
    NO_WP=1
fi

T=$(mktemp -d /tmp/relais-bench.XXXXXX)
chmod 755 "$T"
RESULTS=$T/results
COMMANDS=$T/commands
: >"$RESULTS"
: >"$COMMANDS"
MASTERS=()          # pids of the servers we started

log() { printf '%s\n' "$*" >&2; }
put() { printf '%s %s %s\n' "$1" "$2" "$3" >>"$RESULTS"; }
# The commands are logged once: those of round 1 (later rounds repeat them).
cmd() { [ "$ROUND" -gt 1 ] || printf '%s\n' "$*" >>"$COMMANDS"; }
ROUND=0             # the round being measured (0: outside the rounds)
RP=""               # its key prefix in $RESULTS: "r<round>."

# Every live process below <pid> (children, grandchildren).
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END { n = 1; todo[1] = root
              while (n > 0) { p = todo[n--]
                  for (c in parent) if (parent[c] == p) { print c; todo[++n] = c } } }'
}

# Stops the server whose master is <pid>: SIGTERM, 10 s, then SIGKILL to it
# and to the processes it had below it.
stop_server() {
    local pid=$1 kids i k
    kill -0 "$pid" 2>/dev/null || return 0
    kids=$(descendants "$pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" $kids 2>/dev/null
    wait "$pid" 2>/dev/null
    for ((i = 0; i < 20; i++)); do
        local alive=""
        for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    return 0
}

cleanup() {
    trap - EXIT INT TERM
    [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
    for p in "${MASTERS[@]}"; do stop_server "$p"; done
    if [ "${KEEP:-0}" = 1 ]; then log "bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT
trap 'log "bench: stopped (watchdog or SIGTERM)"; exit 143' TERM
# The watchdog: each wrk run (per round, one static and two PHP per server,
# two more for relaisd's kept connections and two for relaisd with relais-fpm
# (the "relais" stack), two .htaccess runs and one
# WordPress run for relaisd and for Apache) gets its warm-up, its duration and
# 5 s; each start of a server for them (with its php-fpm) 8 s, 16 s with the
# WordPress check; each server 60 s for its idle phases; the WordPress setup
# WP_SETUP_S; the summary 60 s. The FPM phase: per round, for php-fpm and
# relais-fpm, two wrk runs (hello.php, info.php) and 8 s for the start, the
# check and the memory samples.
NSERVERS=$(wc -w <<<"$SERVERS")
[ "$FPM_ONLY" = 1 ] && NSERVERS=0
NFPM=0
[ "$NO_FPM" != 1 ] && NFPM=2
NPHP=0
if [ "$NO_PHP" != 1 ]; then
    NPHP=$NSERVERS
    [ "$PHP_REUSE" != 0 ] && grep -qw relaisd <<<"$SERVERS" && NPHP=$((NPHP + 1))
    [ "$PHP_STACK" != 0 ] && grep -qw relaisd <<<"$SERVERS" && NPHP=$((NPHP + 1))
fi
NHTTPD=$(tr ' ' '\n' <<<"$SERVERS" | grep -cx 'relaisd\|apache')
NHT=0; NWP=0; WP_S=0
[ "$NO_HTACCESS" != 1 ] && NHT=$((2 * NHTTPD))
[ "$NO_WP" != 1 ] && [ "$NHTTPD" -gt 0 ] && { NWP=$NHTTPD; WP_S=$WP_SETUP_S; }
WATCHDOG_S=$(( ROUNDS * ((NSERVERS + 2 * NPHP + NHT + NWP + 2 * NFPM) * (WARMUP + DURATION + 5)
                         + (NSERVERS + NPHP + NHT + NFPM) * 8 + NWP * 16)
               + NSERVERS * 60 + WP_S + 60 ))
( trap 'kill $sl 2>/dev/null; exit 0' TERM
  sleep "$WATCHDOG_S" & sl=$!; wait $sl && kill -TERM $$ 2>/dev/null ) >/dev/null 2>&1 &
WATCHDOG=$!

# The client and the servers need ~2 fds per idle connection plus slack.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 20000 ]; then
    ulimit -Hn 20000 2>/dev/null
    ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_N * 2 + 200)) ]; then
    log "bench: ulimit -n is $(ulimit -n), too low for $IDLE_N connections"
    exit 1
fi

PIN=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then PIN="taskset -c 1"; fi
RUN_USER=""; RUN_GROUP=""
if [ "$(id -u)" -eq 0 ]; then RUN_USER=www-data; RUN_GROUP=www-data; fi

# The document root: the 1 KB file, readable by the servers' users.
DOCROOT=$T/htdocs
mkdir -p "$DOCROOT"
head -c 1024 < <(yes 'relais benchmark 1 KiB file ..' | tr -d '\n') >"$DOCROOT/1k.bin"
echo ok >"$DOCROOT/index.html"
# The PHP phase's scripts (the static phases never ask for them).
printf '<?php echo "Hello, world\\n";\n' >"$DOCROOT/hello.php"
printf '<?php phpinfo();\n' >"$DOCROOT/info.php"
chmod -R a+rX "$DOCROOT"
URL_PATH=/1k.bin
PHP_SOCK=""         # set during the PHP phase: the configs then hand .php to it
# The .htaccess phase's tree: the same file in a DocumentRoot three directories
# below the <Directory> that gets AllowOverride None or All; one small
# .htaccess on the way (a/b), none in the others ($HT_DIR, a, a/b/c).
HT_DIR=$T/htaccess
HT_ROOT=$HT_DIR/a/b/c
mkdir -p "$HT_ROOT"
cp "$DOCROOT/1k.bin" "$HT_ROOT/1k.bin"
echo 'Options -Indexes' >"$HT_DIR/a/b/.htaccess"
chmod -R a+rX "$HT_DIR"
# Set around a start by the .htaccess and WordPress phases (httpd_common,
# conf_apache): the DocumentRoot, the <Directory> of its settings, its
# AllowOverride and DirectoryIndex, Apache's extra modules.
SITE_ROOT=""; SITE_DIR=""; SITE_OVERRIDE=""; SITE_INDEX=""; APACHE_MORE_MODS=""

IDLE_BIN=$T/idle_conns
cc -O2 -std=c17 -Wall -Wextra -D_GNU_SOURCE -o "$IDLE_BIN" bench/idle_conns.c || exit 1

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True if something listens on TCP <port> (from /proc: no probe request).
listening() {
    awk -v p="$(printf ':%04X' "$1")" \
        '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# ------------------------------------------------------------------ configs
# Each writes $T/<server>/<server>.conf for port $2 and keep-alive timeout $3
# (seconds; "" for the server's stock default). With $PHP_SOCK set, *.php
# goes to that php-fpm socket, each server the way Debian sets it up.

conf_nginx() {
    # the idle phase needs room for IDLE_N connections; else Debian's 768
    local d=$T/nginx ka=${3:+keepalive_timeout $3s;} wc=${3:+10240}
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
# Debian's nginx.conf, minus TLS and includes, with tcp_nopush off
${RUN_USER:+user $RUN_USER;}
worker_processes 2;
worker_rlimit_nofile 20000;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections ${wc:-768}; }
http {
    sendfile on;
    tcp_nopush off;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $d/access.log combined;
    $ka
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$2;
        server_name localhost;
        root $DOCROOT;
$(php_nginx)
    }
}
EOF
    START_CMD=("$NGINX" -e "$d/error.log" -p "$d/" -c "$d/nginx.conf")
}

# Debian's default site's PHP block: snippets/fastcgi-php.conf inlined (its
# "include fastcgi.conf" is relative to /etc/nginx, our prefix is not).
php_nginx() {
    [ -n "$PHP_SOCK" ] || return 0
    cat <<EOF
        location ~ \.php\$ {
            fastcgi_split_path_info ^(.+?\.php)(/.*)\$;
            try_files \$fastcgi_script_name =404;
            set \$path_info \$fastcgi_path_info;
            fastcgi_param PATH_INFO \$path_info;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi.conf;
            fastcgi_pass unix:$PHP_SOCK;
        }
EOF
}

# Debian's default module set (a2enmod state of a fresh apache2 install).
APACHE_MODS="mpm_event access_compat alias auth_basic authn_core authn_file authz_core
             authz_host authz_user autoindex deflate dir env filter mime negotiation
             reqtimeout setenvif status"

# The directives Apache's and relaisd's configurations share: the same
# server, as far as the two can read the same file. $1: the server's dir,
# $2: port, $3: KeepAliveTimeout.
httpd_common() {
    cat <<EOF
Listen 127.0.0.1:$2
ServerName localhost
${RUN_USER:+User $RUN_USER}
${RUN_GROUP:+Group $RUN_GROUP}
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout ${3:-5}
HostnameLookups Off
ErrorLog $1/error.log
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog $1/access.log combined
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot ${SITE_ROOT:-$DOCROOT}
<Directory ${SITE_DIR:-${SITE_ROOT:-$DOCROOT}}>
    Options Indexes FollowSymLinks
    AllowOverride ${SITE_OVERRIDE:-None}${SITE_INDEX:+
    DirectoryIndex $SITE_INDEX}
    Require all granted
</Directory>
EOF
    # as Debian's conf-available/php8.2-fpm.conf hands PHP to php-fpm
    [ -n "$PHP_SOCK" ] && cat <<EOF
<FilesMatch ".+\.php\$">
    SetHandler "proxy:unix:$PHP_SOCK|fcgi://localhost"
</FilesMatch>
EOF
    return 0
}

conf_apache() {
    local d=$T/apache m
    mkdir -p "$d/run"
    {
        echo "# Debian's apache2.conf + default modules (event MPM at Debian's settings)"
        for m in $APACHE_MODS ${PHP_SOCK:+proxy proxy_fcgi} $APACHE_MORE_MODS; do
            echo "Include /etc/apache2/mods-available/$m.load"
            [ -f "/etc/apache2/mods-available/$m.conf" ] &&
                echo "Include /etc/apache2/mods-available/$m.conf"
        done
        cat <<EOF
ServerRoot $d
DefaultRuntimeDir $d/run
Mutex file:$d/run default
PidFile $d/apache.pid
AccessFileName .htaccess
EOF
        httpd_common "$d" "$2" "$3"
    } >"$d/apache2.conf"
    START_CMD=("$APACHE" -d "$d" -f "$d/apache2.conf" -DFOREGROUND)
}

# relaisd reads the same directives as Apache's config above (httpd_common);
# it needs no LoadModule lines, and runs one worker per CPU.
conf_relaisd() { relaisd_conf "$T/relaisd" "$2" "$3" ""; }

# relaisd_kept (PHP phase only): the same relaisd, keeping its FastCGI
# connections to php-fpm (FCGI_KEEP_CONN), at most KEEP_MAX per worker
# process, requests beyond them waiting for one. KEEP_MAX × workers ≤
# php-fpm's children: no child is held by an idle kept connection.
conf_relaisd_kept() {
    relaisd_conf "$T/relaisd_kept" "$2" "$3" \
        "<Proxy \"unix:$PHP_SOCK|fcgi://localhost\" enablereuse=on max=$KEEP_MAX>
</Proxy>"
}

# relais (PHP phase only): the whole relais stack, the same relaisd as the
# "relaisd" row (one FastCGI connection per request) in front of relais-fpm
# instead of php-fpm (php_phase starts it, from the same php-fpm.conf).
conf_relais() { relaisd_conf "$T/relais" "$2" "$3" ""; }

# relaisd's worker processes: RelaisWorkers if RELAISD_EXTRA sets it, else one per CPU.
RELAISD_WORKERS=$(awk 'tolower($1) == "relaisworkers" { n = $2 } END { print n + 0 }' \
                  <<<"${RELAISD_EXTRA:-}")
[ "$RELAISD_WORKERS" -ge 1 ] || RELAISD_WORKERS=$(nproc)
KEEP_MAX=$((PHP_CHILDREN / RELAISD_WORKERS))
[ "$KEEP_MAX" -ge 1 ] || KEEP_MAX=1

# relaisd_conf DIR PORT KA EXTRA: relaisd's config in DIR, EXTRA at the end.
relaisd_conf() {
    local d=$1
    mkdir -p "$d"
    {
        cat <<EOF
ServerRoot $d
PidFile $d/relaisd.pid
TypesConfig /etc/mime.types
DirectoryIndex index.html
${RELAISD_EXTRA:-}
EOF
        httpd_common "$d" "$2" "$3"
        if [ -n "$4" ]; then printf '%s\n' "$4"; fi
    } >"$d/relaisd.conf"
    START_CMD=("$BUILD/relaisd" -f "$d/relaisd.conf" -DFOREGROUND)
}

# ------------------------------------------------------------------ servers

show_logs() {
    local f
    for f in "$T/$1/stderr" "$T/$1/error.log"; do
        [ -s "$f" ] && { log "--- $f:"; tail -n 15 "$f" >&2; }
    done
    return 0
}

# start_server NAME PORT KA: writes the config, starts the server in the
# foreground as our child, waits (10 s) until it listens. Sets SRV_PID.
start_server() {
    local name=$1 port=$2 i
    "conf_$name" "$name" "$port" "${3:-}"
    cmd "${START_CMD[*]}"
    "${START_CMD[@]}" >>"$T/$name/stdout" 2>>"$T/$name/stderr" </dev/null &
    SRV_PID=$!
    MASTERS+=("$SRV_PID")
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            log "bench: $name exited at start:"
            show_logs "$name"
            return 1
        fi
        listening "$port" && return 0
        sleep 0.1
    done
    log "bench: $name not listening on $port after 10 s:"
    show_logs "$name"
    stop_server "$SRV_PID"
    return 1
}

server_pids() { echo "$1"; descendants "$1"; }

# Sum over the server's processes of Pss (smaps_rollup) and VmRSS, in kB.
mem_kb() {
    local pss=0 rss=0 n=0 p v
    for p in $(server_pids "$1"); do
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || true
        [ -n "$v" ] && pss=$((pss + v))
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || true
        [ -n "$v" ] && { rss=$((rss + v)); n=$((n + 1)); }
    done
    echo "$pss $rss $n"
}

# CPU clock ticks used by the server so far: the master (with its reaped
# children) plus each live process below it.
cpu_ticks() {
    local t=0 p v first=1
    for p in $(server_pids "$1"); do
        if [ $first = 1 ]; then
            v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
            first=0
        else
            v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        fi
        [ -n "$v" ] && t=$((t + v))
    done
    echo "$t"
}

# ------------------------------------------------------------------ phases

# put_wrk NAME KEY_PREFIX FILE: the figures of one `wrk --latency` output.
put_wrk() {
    local name=$1 k=$2 out=$3
    put "$name" "${k}rps" "$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    put "$name" "${k}requests" "$(awk '/requests in/ { print $1 }' "$out")"
    put "$name" "${k}p99" "$(awk '$1 == "99%" { print $2 }' "$out")"
    put "$name" "${k}p50" "$(awk '$1 == "50%" { print $2 }' "$out")"
    put "$name" "${k}sock_errors" "$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")"
    put "$name" "${k}non2xx" "$(awk '/Non-2xx/ { print $NF }' "$out")"
}

# throughput NAME: a fresh server, its memory at rest, wrk on /1k.bin (one
# round's figures, keys prefixed with $RP).
throughput() {
    local name=$1 port c0 c1 url out=$T/$1/wrk.r$ROUND.txt
    port=$(free_port)
    cmd "# $name: throughput (stock keep-alive settings)"
    start_server "$name" "$port" "" || { put "$name" status failed; return 1; }
    sleep 0.5
    url="http://127.0.0.1:$port$URL_PATH"
    read -r pss rss n < <(mem_kb "$SRV_PID")
    put "$name" "${RP}rest_pss_kb" "$pss"; put "$name" "${RP}rest_rss_kb" "$rss"
    put "$name" "${RP}rest_procs" "$n"
    log "bench: round $ROUND: $name: warm-up ${WARMUP}s, then wrk ${DURATION}s"
    cmd "$PIN wrk -t1 -c$CONNS -d${WARMUP}s $url    # warm-up"
    timeout $((WARMUP + 15)) $PIN wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
    c0=$(cpu_ticks "$SRV_PID")
    cmd "$PIN wrk -t1 -c$CONNS -d${DURATION}s --latency $url"
    timeout $((DURATION + 15)) $PIN wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1
    c1=$(cpu_ticks "$SRV_PID")
    put "$name" "${RP}cpu_ticks" $((c1 - c0))
    put_wrk "$name" "$RP" "$out"
    read -r pss rss n < <(mem_kb "$SRV_PID")
    put "$name" "${RP}load_procs" "$n"
    stop_server "$SRV_PID"
}

# idle_phase NAME MODE: a fresh server with a 60 s keep-alive timeout, its
# memory before and 2 s into holding IDLE_N idle connections of MODE.
idle_phase() {
    local name=$1 mode=$2 port ready=$T/$1/ready.$2 out=$T/$1/idle.$2 cpid i
    port=$(free_port)
    cmd "# $name: $mode idle connections (keep-alive timeout ${IDLE_KA}s)"
    start_server "$name" "$port" "$IDLE_KA" || { put "$name" status failed; return 1; }
    sleep 1
    read -r pss0 rss0 n0 < <(mem_kb "$SRV_PID")
    cmd "$IDLE_BIN -p $port -n $IDLE_N -m $mode -u $URL_PATH -w 200 -o 15 -s 3 -H $HOLD"
    "$IDLE_BIN" -p "$port" -n "$IDLE_N" -m "$mode" -u "$URL_PATH" -w 200 -o 15 -s 3 \
        -H "$HOLD" -r "$ready" >"$out" 2>&1 &
    cpid=$!
    for ((i = 0; i < 250; i++)); do
        [ -s "$ready" ] && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 2
    read -r pss1 rss1 n1 < <(mem_kb "$SRV_PID")
    for ((i = 0; i < 150; i++)); do
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    put "$name" "${mode}_base_pss_kb" "$pss0"; put "$name" "${mode}_pss_kb" "$pss1"
    put "$name" "${mode}_base_rss_kb" "$rss0"; put "$name" "${mode}_rss_kb" "$rss1"
    put "$name" "${mode}_procs" "$n0/$n1"
    put "$name" "${mode}_ready" "$(grep -m1 '^READY' "$out" | tr ' ' ',')"
    put "$name" "${mode}_held" "$(grep -m1 '^HELD' "$out" | tr ' ' ',')"
    stop_server "$SRV_PID"
}

# True if something listens on the unix socket <path> (/proc/net/unix).
unix_listening() {
    awk -v p=" $1" '$4 ~ /^0*10000$/ && substr($0, length($0) - length(p) + 1) == p { f = 1 }
                    END { exit !f }' /proc/net/unix 2>/dev/null
}

# start_fpm NAME [BINARY]: a fresh php-fpm (BINARY: $PHP_FPM, or
# $RELAIS_FPM for the FPM phase, which reads the same command line and
# configuration) for server NAME in $T/NAME/fpm, with the same pool for every
# server; waits (10 s) until its socket listens. Sets FPM_PID and FPM_SOCK.
# Debian's php.ini (/etc/php/8.2/fpm, opcache on): php-fpm8.2's compiled-in
# place, and relais-fpm's default too. FPM_WRAP (the FPM phase's "setsid")
# goes before the command.
FPM_WRAP=""
start_fpm() {
    local d=$T/$1/fpm bin=${2:-$PHP_FPM} i
    mkdir -p "$d"
    FPM_SOCK=$d/php.sock
    cat >"$d/php-fpm.conf" <<EOF
[global]
pid = php-fpm.pid
error_log = php-fpm.log
daemonize = no
[bench]
${RUN_USER:+user = $RUN_USER}
${RUN_GROUP:+group = $RUN_GROUP}
listen = php.sock
listen.mode = 0666
pm = static
pm.max_children = $PHP_CHILDREN
EOF
    local fpm_cmd=($FPM_WRAP "$bin" -F -y "$d/php-fpm.conf" -p "$d")
    cmd "${fpm_cmd[*]}"
    "${fpm_cmd[@]}" >>"$d/stderr" 2>&1 </dev/null &
    FPM_PID=$!
    MASTERS+=("$FPM_PID")
    for ((i = 0; i < 100; i++)); do
        unix_listening "$FPM_SOCK" && return 0
        kill -0 "$FPM_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "bench: ${bin##*/} for $1 not listening on $FPM_SOCK:"
    tail -n 15 "$d/stderr" "$d/php-fpm.log" >&2 2>/dev/null
    stop_server "$FPM_PID"
    return 1
}

# php_check PORT: the two scripts answer what PHP prints, through php-fpm.
php_check() {
    "$PY" - "$1" <<'PYEOF'
import http.client, sys
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()
st, body = get("/hello.php")
if st != 200 or body != b"Hello, world\n":
    sys.exit(f"GET /hello.php: {st} {body[:300]!r}")
st, body = get("/info.php")
if st != 200 or b"FPM/FastCGI" not in body or b"</html>" not in body:
    sys.exit(f"GET /info.php: {st} {len(body)} bytes {body[:300]!r}")
PYEOF
}

# php_phase NAME: a fresh php-fpm and a fresh server handing *.php to it;
# wrk on hello.php then info.php, as the static phase does on /1k.bin. The
# server's CPU and php-fpm's are counted apart. One round's figures (keys
# prefixed with $RP); a failure is recorded as php_status failed. NAME
# relais: relaisd (conf_relais) in front of relais-fpm, started as php-fpm
# is (no setsid wrapper: relais-fpm -F takes a session of its own, as
# php-fpm -F does; round 1 records which session it ran in).
php_phase() {
    local name=$1 port s url out c0 c1 f0 f1 fpm_bin=$PHP_FPM
    port=$(free_port)
    if [ "$name" = relaisd_kept ]; then
        cmd "# relaisd: PHP through php-fpm (pm static, $PHP_CHILDREN children), kept" \
            "connections: <Proxy \"unix:$T/$name/fpm/php.sock|fcgi://localhost\" enablereuse=on max=$KEEP_MAX>"
    elif [ "$name" = relais ]; then
        fpm_bin=$RELAIS_FPM
        cmd "# relais: relaisd (the relaisd row's configuration) in front of relais-fpm" \
            "(the same php-fpm.conf: pm static, $PHP_CHILDREN children)"
    else
        cmd "# $name: PHP through php-fpm (pm static, $PHP_CHILDREN children)"
    fi
    start_fpm "$name" "$fpm_bin" || { put "$name" php_status failed; return 1; }
    [ "$ROUND" = 1 ] && put "$name" php_fpm_session \
        "$([ "$(ps -o sid= -p "$FPM_PID" | tr -d ' ')" = "$FPM_PID" ] && echo own || echo ours)"
    PHP_SOCK=$FPM_SOCK
    start_server "$name" "$port" ""
    local rc=$?
    PHP_SOCK=""
    if [ $rc -ne 0 ]; then
        stop_server "$FPM_PID"
        put "$name" php_status failed
        return 1
    fi
    if ! php_check "$port"; then
        log "bench: $name: wrong PHP answers"
        show_logs "$name"
        tail -n 15 "$T/$name/fpm/php-fpm.log" >&2 2>/dev/null
        put "$name" php_status failed
        stop_server "$SRV_PID"; stop_server "$FPM_PID"
        return 1
    fi
    for s in hello info; do
        url="http://127.0.0.1:$port/$s.php"
        out=$T/$name/wrk.$s.r$ROUND.txt
        log "bench: round $ROUND: $name: $s.php: warm-up ${WARMUP}s, then wrk ${DURATION}s"
        cmd "$PIN wrk -t1 -c$PHP_CONNS -d${WARMUP}s $url    # warm-up"
        timeout $((WARMUP + 15)) $PIN wrk -t1 -c"$PHP_CONNS" -d"${WARMUP}s" "$url" >/dev/null
        c0=$(cpu_ticks "$SRV_PID"); f0=$(cpu_ticks "$FPM_PID")
        cmd "$PIN wrk -t1 -c$PHP_CONNS -d${DURATION}s --latency $url"
        timeout $((DURATION + 15)) $PIN wrk -t1 -c"$PHP_CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1
        c1=$(cpu_ticks "$SRV_PID"); f1=$(cpu_ticks "$FPM_PID")
        put "$name" "${RP}php_${s}_cpu_ticks" $((c1 - c0))
        put "$name" "${RP}php_${s}_fpm_ticks" $((f1 - f0))
        put_wrk "$name" "${RP}php_${s}_" "$out"
    done
    stop_server "$SRV_PID"
    stop_server "$FPM_PID"
}

# ---- FPM: relais-fpm against php-fpm, both behind the same nginx

# fpm_check PORT: php_check's two answers, then, from phpinfo(), what the
# FPM side runs: "<Server API> <Loaded Configuration File> <Opcode Caching>"
# (spaces as '_'), so that the two FPMs are seen to run the same PHP setup.
fpm_check() {
    php_check "$1" || return 1
    "$PY" - "$1" <<'PYEOF'
import html, http.client, re, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/info.php")
body = c.getresponse().read().decode("utf-8", "replace")
def row(name):
    m = re.search(r'<td class="e">' + re.escape(name) + r'\s*</td><td class="v">(.*?)\s*</td>', body)
    return html.unescape(m[1]).strip().replace(" ", "_") if m else "-"
print(row("Server API"), row("Loaded Configuration File"), row("Opcode Caching"))
PYEOF
}

# fpm_mem MASTER: one line per process of the FPM whose master is MASTER:
# "<role> <Rss> <Pss> <Private_Dirty>" (kB, from /proc/PID/smaps_rollup),
# role master, leader (relais-fpm's pool leader, by its title "... leader")
# or child.
fpm_mem() {
    local p role title
    for p in $(server_pids "$1"); do
        title=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
        if [ "$p" = "$1" ]; then role=master
        elif [[ $title == *" leader"* ]]; then role=leader
        else role=child; fi
        awk -v r="$role" '/^Rss:/ { rss = $2 } /^Pss:/ { pss = $2 }
                          /^Private_Dirty:/ { pd = $2 }
                          END { if (rss != "") print r, rss, pss, pd }' \
            "/proc/$p/smaps_rollup" 2>/dev/null
    done
}

# fpm_phase IMPL (php-fpm: Debian's php-fpm8.2, relais-fpm: $RELAIS_FPM): a fresh FPM
# with the PHP phase's pool (start_fpm) and a fresh nginx handing *.php to it
# (conf_nginx, php_nginx: the same front end for both); checks the answers,
# then wrk on hello.php and info.php as the PHP phase does, counting the FPM
# tree's CPU (master, relais-fpm's leader, children) and nginx's apart; after
# the two runs, the memory of each FPM process (fpm_mem). One round's figures
# under fpm_<impl> (keys prefixed with $RP).
fpm_phase() {
    local impl=$1 row=fpm_$1 bin port s url out c0 c1 f0 f1 rc info mem s1 s2 s3
    case $impl in php-fpm) bin=$PHP_FPM ;; *) bin=$RELAIS_FPM ;; esac
    port=$(free_port)
    cmd "# ${bin##*/} behind nginx (pm static, $PHP_CHILDREN children, Debian's php.ini)"
    # Each FPM in a session of its own, as php-fpm makes itself (setsid() in
    # fpm_unix_init_main, -F or not): with the kernel's autogroups, a session
    # is one scheduling group, so an FPM left in our session (relais-fpm so
    # far) would share one CPU share with nginx and wrk, where php-fpm gets
    # its own. FPM_SETSID=0 starts them as they are.
    [ "$FPM_SETSID" != 0 ] && FPM_WRAP=setsid
    start_fpm "$row" "$bin"
    rc=$?
    FPM_WRAP=""
    [ $rc -eq 0 ] || { put "$row" fpm_status failed; return 1; }
    if [ "$FPM_SETSID" != 0 ] && [ "$(ps -o sid= -p "$FPM_PID" | tr -d ' ')" != "$FPM_PID" ]; then
        log "bench: ${bin##*/}: $FPM_PID is not its session's leader (setsid forked?)"
        stop_server "$FPM_PID"
        put "$row" fpm_status failed
        return 1
    fi
    [ "$ROUND" = 1 ] && put "$row" session "$([ "$(ps -o sid= -p "$FPM_PID" | tr -d ' ')" = "$FPM_PID" ] &&
                                               echo own || echo ours)"
    PHP_SOCK=$FPM_SOCK
    start_server nginx "$port" ""
    rc=$?
    PHP_SOCK=""
    if [ $rc -ne 0 ]; then
        stop_server "$FPM_PID"
        put "$row" fpm_status failed
        return 1
    fi
    if ! info=$(fpm_check "$port"); then
        log "bench: ${bin##*/} behind nginx: wrong PHP answers"
        show_logs nginx
        tail -n 15 "$T/$row/fpm/stderr" "$T/$row/fpm/php-fpm.log" >&2 2>/dev/null
        put "$row" fpm_status failed
        stop_server "$SRV_PID"; stop_server "$FPM_PID"
        return 1
    fi
    if [ "$ROUND" = 1 ]; then
        read -r s1 s2 s3 <<<"$info"
        put "$row" sapi "$s1"; put "$row" php_ini "$s2"; put "$row" opcache "$s3"
    fi
    for s in hello info; do
        url="http://127.0.0.1:$port/$s.php"
        out=$T/$row/wrk.$s.r$ROUND.txt
        log "bench: round $ROUND: ${bin##*/}: $s.php: warm-up ${WARMUP}s, then wrk ${DURATION}s"
        cmd "$PIN wrk -t1 -c$PHP_CONNS -d${WARMUP}s $url    # warm-up"
        timeout $((WARMUP + 15)) $PIN wrk -t1 -c"$PHP_CONNS" -d"${WARMUP}s" "$url" >/dev/null
        c0=$(cpu_ticks "$SRV_PID"); f0=$(cpu_ticks "$FPM_PID")
        cmd "$PIN wrk -t1 -c$PHP_CONNS -d${DURATION}s --latency $url"
        timeout $((DURATION + 15)) $PIN wrk -t1 -c"$PHP_CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1
        c1=$(cpu_ticks "$SRV_PID"); f1=$(cpu_ticks "$FPM_PID")
        put "$row" "${RP}${s}_cpu_ticks" $((c1 - c0))
        put "$row" "${RP}${s}_fpm_ticks" $((f1 - f0))
        put_wrk "$row" "${RP}${s}_" "$out"
    done
    # memory after the runs: each child's Rss, Pss, Private_Dirty averaged,
    # the master's and the leader's Pss, the Pss of the whole tree
    sleep 0.5
    mem=$T/$row/mem.r$ROUND.txt
    cmd "# after the runs: /proc/PID/smaps_rollup of the master, the leader (relais-fpm) and each child"
    fpm_mem "$FPM_PID" >"$mem"
    awk '$1 == "child" { n++; rss += $2; pss += $3; pd += $4 }
         $1 == "master" { m = $3 } $1 == "leader" { l += $3; nl++ }
         { tot += $3; procs++ }
         END { printf "children %d\nchild_rss_kb %.1f\nchild_pss_kb %.1f\nchild_pdirty_kb %.1f\n",
                      n, n ? rss / n : 0, n ? pss / n : 0, n ? pd / n : 0
               printf "master_pss_kb %d\nleader_pss_kb %d\nleaders %d\ntree_pss_kb %d\ntree_procs %d\n",
                      m, l, nl, tot, procs }' "$mem" |
    while read -r k v; do put "$row" "${RP}$k" "$v"; done
    stop_server "$SRV_PID"
    stop_server "$FPM_PID"
}

# http_status PORT PATH: the status of one GET (or "none").
http_status() {
    "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null || echo none
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", sys.argv[2])
print(c.getresponse().status)
PYEOF
}

# ht_phase NAME MODE: a fresh server (relaisd or Apache) serving the 1 KB file
# from $HT_ROOT, with AllowOverride MODE (None or All) on $HT_DIR, three
# directories above it: with All, each request looks for .htaccess in
# $HT_DIR, a, a/b (found: Options -Indexes) and a/b/c. wrk as in the static
# phase. One round's figures under ht_<name>_<none|all>.
ht_phase() {
    local name=$1 mode=$2 row port url out c0 c1 st rc
    row=ht_${name}_$(tr 'A-Z' 'a-z' <<<"$mode")
    port=$(free_port)
    cmd "# $name: /1k.bin from DocumentRoot \$T/htaccess/a/b/c, <Directory \$T/htaccess> AllowOverride $mode"
    SITE_ROOT=$HT_ROOT; SITE_DIR=$HT_DIR; SITE_OVERRIDE=$mode
    start_server "$name" "$port" ""
    rc=$?
    SITE_ROOT=""; SITE_DIR=""; SITE_OVERRIDE=""
    [ $rc -eq 0 ] || { put "ht_$name" ht_status failed; return 1; }
    st=$(http_status "$port" "$URL_PATH")
    if [ "$st" != 200 ]; then
        log "bench: $name, AllowOverride $mode: GET $URL_PATH answered $st"
        show_logs "$name"
        put "ht_$name" ht_status failed
        stop_server "$SRV_PID"
        return 1
    fi
    # what Options -Indexes in a/b/.htaccess does to a directory without index
    [ "$ROUND" = 1 ] && put "$row" index_status "$(http_status "$port" /)"
    sleep 0.5
    url="http://127.0.0.1:$port$URL_PATH"
    out=$T/$name/wrk.$row.r$ROUND.txt
    log "bench: round $ROUND: $name, AllowOverride $mode: warm-up ${WARMUP}s, then wrk ${DURATION}s"
    cmd "$PIN wrk -t1 -c$CONNS -d${WARMUP}s $url    # warm-up"
    timeout $((WARMUP + 15)) $PIN wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
    c0=$(cpu_ticks "$SRV_PID")
    cmd "$PIN wrk -t1 -c$CONNS -d${DURATION}s --latency $url"
    timeout $((DURATION + 15)) $PIN wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1
    c1=$(cpu_ticks "$SRV_PID")
    put "$row" "${RP}cpu_ticks" $((c1 - c0))
    put_wrk "$row" "$RP" "$out"
    stop_server "$SRV_PID"
}

# ---- WordPress: bench/wordpress.py (MariaDB, the site, the web installer)
WP_DIR=$T/wp
WP_ROOT=$WP_DIR/htdocs
WP_HELPER=""        # pid of `wordpress.py serve`: MariaDB is its child
WP_PORT=""

# wp_start NAME: a fresh php-fpm (the PHP phase's pool, in $T/wp_NAME/fpm)
# and a fresh server NAME for the site: DocumentRoot $WP_ROOT with
# AllowOverride All and DirectoryIndex index.php, *.php to php-fpm (Apache:
# plus mod_rewrite). Sets WP_PORT, SRV_PID, FPM_PID.
wp_start() {
    local name=$1 rc
    WP_PORT=$(free_port)
    start_fpm "wp_$name" || return 1
    PHP_SOCK=$FPM_SOCK; SITE_ROOT=$WP_ROOT; SITE_OVERRIDE=All
    SITE_INDEX="index.php index.html"; APACHE_MORE_MODS=rewrite
    start_server "$name" "$WP_PORT" ""
    rc=$?
    PHP_SOCK=""; SITE_ROOT=""; SITE_OVERRIDE=""; SITE_INDEX=""; APACHE_MORE_MODS=""
    [ $rc -eq 0 ] || { stop_server "$FPM_PID"; return 1; }
}

wp_stop() { stop_server "$SRV_PID"; stop_server "$FPM_PID"; }

# wp_setup NAME: MariaDB and the site (wordpress.py serve, our child until
# the end of the phase), then the web installer, login and permalinks
# (/%postname%/: WordPress writes .htaccess) through php-fpm and server NAME.
wp_setup() {
    local first=$1 i
    mkdir -p "$WP_DIR"
    cmd "# ---- WordPress: set up once (MariaDB from a fresh datadir, Debian's wordpress in \$T/wp/htdocs)"
    cmd "$PY bench/wordpress.py serve \$T/wp    # mariadbd --no-defaults --skip-networking, until the phase ends"
    "$PY" "$ROOT/bench/wordpress.py" serve "$WP_DIR" >"$WP_DIR/serve.log" 2>&1 </dev/null &
    WP_HELPER=$!
    MASTERS+=("$WP_HELPER")
    for ((i = 0; i < 900; i++)); do
        [ -s "$WP_DIR/ready" ] && break
        kill -0 "$WP_HELPER" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$WP_DIR/ready" ]; then
        log "bench: WordPress: MariaDB or the site not ready after 90 s:"
        tail -n 30 "$WP_DIR/serve.log" >&2
        return 1
    fi
    log "bench: WordPress: installing through $first"
    wp_start "$first" || return 1
    cmd "$PY bench/wordpress.py install PORT \$T/wp    # through $first: installer, login, permalinks /%postname%/"
    if ! timeout 180 "$PY" "$ROOT/bench/wordpress.py" install "$WP_PORT" "$WP_DIR" \
            >"$WP_DIR/install.log" 2>&1 </dev/null; then
        log "bench: WordPress: the install through $first failed:"
        tail -n 40 "$WP_DIR/install.log" >&2
        show_logs "$first"
        wp_stop
        return 1
    fi
    wp_stop
}

# wp_phase NAME: a fresh php-fpm and server NAME; GET / and GET /hello-world/
# checked (200, no redirect), then wrk on GET / as the static phase, with
# WP_CONNS connections. The server's, php-fpm's and MariaDB's CPU apart.
wp_phase() {
    local name=$1 row=wp_$1 url out c0 c1 f0 f1 d0 d1 size
    cmd "# $name: WordPress front page, php-fpm pm static $PHP_CHILDREN children, AllowOverride All (WordPress' .htaccess)"
    wp_start "$name" || { put "$row" wp_status failed; return 1; }
    if ! size=$(timeout 60 "$PY" "$ROOT/bench/wordpress.py" page "$WP_PORT" \
                "$T/$name/wp_front.r$ROUND.html" 2>"$T/$name/wp_page.err" </dev/null); then
        log "bench: $name: wrong WordPress answers:"
        tail -n 40 "$T/$name/wp_page.err" >&2
        show_logs "$name"
        put "$row" wp_status failed
        wp_stop
        return 1
    fi
    put "$row" "${RP}page_bytes" "$size"
    url="http://127.0.0.1:$WP_PORT/"
    out=$T/$name/wrk.wp.r$ROUND.txt
    log "bench: round $ROUND: $name: WordPress GET /: warm-up ${WARMUP}s, then wrk ${DURATION}s"
    cmd "$PIN wrk -t1 -c$WP_CONNS -d${WARMUP}s $url    # warm-up"
    timeout $((WARMUP + 15)) $PIN wrk -t1 -c"$WP_CONNS" -d"${WARMUP}s" "$url" >/dev/null
    c0=$(cpu_ticks "$SRV_PID"); f0=$(cpu_ticks "$FPM_PID"); d0=$(cpu_ticks "$WP_HELPER")
    cmd "$PIN wrk -t1 -c$WP_CONNS -d${DURATION}s --latency $url"
    timeout $((DURATION + 15)) $PIN wrk -t1 -c"$WP_CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1
    c1=$(cpu_ticks "$SRV_PID"); f1=$(cpu_ticks "$FPM_PID"); d1=$(cpu_ticks "$WP_HELPER")
    put "$row" "${RP}cpu_ticks" $((c1 - c0))
    put "$row" "${RP}fpm_ticks" $((f1 - f0))
    put "$row" "${RP}db_ticks" $((d1 - d0))
    put_wrk "$row" "$RP" "$out"
    wp_stop
}

version_of() {
    case $1 in
        nginx) "$NGINX" -v 2>&1 | sed 's/.*nginx\//nginx /' ;;
        apache) "$APACHE" -v | awk -F': ' '/Server version/ { print $2 }' ;;
        relaisd) echo "relaisd $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
                 git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo +dirty)" ;;
    esac
}

# ------------------------------------------------------------------ run
if [ "$FPM_ONLY" = 1 ]; then
    log "bench: $T; FPM phase only: php-fpm and relais-fpm behind nginx;" \
        "wrk -t1 -c$PHP_CONNS -d${DURATION}s${PIN:+ pinned to CPU 1}; $ROUNDS rounds"
else
    log "bench: $T; 1 KB file; wrk -t1 -c$CONNS -d${DURATION}s${PIN:+ pinned to CPU 1};" \
        "$IDLE_N idle connections"
fi
LOAD=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD" 'BEGIN { exit !(l > 0.5) }'; then
    log "bench: warning: load average $LOAD: something else is running; figures will be noisy"
fi
START=$(date +%s)

# rotate K WORD...: the words, starting from the K-th (1-based, modulo their
# count): round k's order, so that the first place goes round the servers.
rotate() {
    local k=$1; shift
    local n=$# i
    local a=("$@")
    [ "$n" -gt 0 ] || return 0
    for ((i = 0; i < n; i++)); do printf '%s ' "${a[$(( (k - 1 + i) % n ))]}"; done
}

# remove WORD LIST...: the list without WORD.
remove() {
    local w=$1 x; shift
    for x in "$@"; do [ "$x" = "$w" ] || printf '%s ' "$x"; done
}

# log_round K WHAT ORDER: starts round K of phase WHAT. The commands of
# round 1 are logged as they run; of later rounds only their order.
log_round() {
    local order=${3% }
    ROUND=$1; RP="r$1."
    log "bench: $2 round $1 of $ROUNDS: $order"
    if [ "$1" = 1 ]; then
        printf '%s\n' "# ---- $2, round 1 of $ROUNDS: $order" >>"$COMMANDS"
    else
        printf '%s\n' "# ---- $2, round $1 of $ROUNDS: the same commands (fresh servers, new ports), in the order $order" >>"$COMMANDS"
    fi
}

ACTIVE=""           # the servers measured (built, not failed)
[ "$FPM_ONLY" = 1 ] && SERVERS=""   # nginx is then the FPM phase's front end only
for s in $SERVERS; do
    if [ "$s" = relaisd ] && [ ! -x "$BUILD/relaisd" ]; then
        log "bench: relaisd is missing ($BUILD/relaisd not built): skipped"
        put relaisd status missing
        continue
    fi
    put "$s" version "$(version_of "$s" | tr ' ' '_')"
    ACTIVE+="$s "
done

# 1. Static throughput: ROUNDS rounds, each server once per round (a fresh
# server each time), the order rotating; a server that fails is dropped.
for ((rnd = 1; rnd <= ROUNDS; rnd++)); do
    order=$(rotate "$rnd" $ACTIVE)
    [ -n "$order" ] || break
    log_round "$rnd" static "$order"
    for s in $order; do
        throughput "$s" || ACTIVE=$(remove "$s" $ACTIVE)
    done
done
put all rounds "$ROUNDS"

# 1b. .htaccess lookups: ROUNDS rounds over relaisd and Apache, each measured
# with AllowOverride None and All back to back (a fresh server each time),
# None first in odd rounds, All first in even ones, the servers rotating.
HT_ROWS=""
if [ "$NO_HTACCESS" != 1 ]; then
    for s in $ACTIVE; do case $s in relaisd|apache) HT_ROWS+="$s " ;; esac; done
fi
for ((rnd = 1; rnd <= ROUNDS; rnd++)); do
    order=$(rotate "$rnd" $HT_ROWS)
    [ -n "$order" ] || break
    modes="None All"
    [ $((rnd % 2)) = 0 ] && modes="All None"
    log_round "$rnd" ".htaccess (AllowOverride $modes)" "$order"
    for s in $order; do
        for m in $modes; do
            ht_phase "$s" "$m" || { HT_ROWS=$(remove "$s" $HT_ROWS); break; }
        done
    done
done
for s in $HT_ROWS; do put "ht_$s" ht_status ok; done

# 2. Idle connections: one server after the other (memory, not speed).
ROUND=0; RP=""
[ -n "$ACTIVE" ] && cmd "# ---- idle connections: once per server"
for s in $ACTIVE; do
    idle_phase "$s" request
    idle_phase "$s" silent
done

# 3. PHP: ROUNDS rounds over the rows (relaisd, relaisd with kept FastCGI
# connections, relais = relaisd with relais-fpm, nginx, Apache), each with a
# fresh FPM and server, the order rotating; a row that fails is dropped.
PHP_ROWS=""
for s in $ACTIVE; do
    if [ "$NO_PHP" = 1 ]; then put "$s" php_status skipped; continue; fi
    PHP_ROWS+="$s "
    if [ "$s" = relaisd ] && [ "$PHP_REUSE" != 0 ]; then
        put relaisd_kept php_max "$KEEP_MAX"
        put relaisd_kept php_workers "$RELAISD_WORKERS"
        if [ $((KEEP_MAX * RELAISD_WORKERS)) -gt "$PHP_CHILDREN" ]; then
            log "bench: warning: $RELAISD_WORKERS relaisd workers × max=$KEEP_MAX kept" \
                "connections > $PHP_CHILDREN php-fpm children: requests may wait behind idle ones"
        fi
        PHP_ROWS+="relaisd_kept "
    fi
    if [ "$s" = relaisd ] && [ "$PHP_STACK" != 0 ]; then
        if [ -x "$RELAIS_FPM" ]; then
            put relais version "relais-fpm_$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
                git -C "$ROOT" diff --quiet HEAD -- src/fpm src/sapi src/fcgi src/core 2>/dev/null ||
                echo +dirty)"
            PHP_ROWS+="relais "
        else
            log "bench: relais-fpm is missing ($RELAIS_FPM not built): no PHP row relais"
            put relais php_status missing
        fi
    fi
done
for ((rnd = 1; rnd <= ROUNDS; rnd++)); do
    order=$(rotate "$rnd" $PHP_ROWS)
    [ -n "$order" ] || break
    log_round "$rnd" PHP "$order"
    for s in $order; do
        php_phase "$s" || PHP_ROWS=$(remove "$s" $PHP_ROWS)
    done
done
ROUND=0; RP=""
for s in $PHP_ROWS; do put "$s" php_status ok; done

# 3b. FPM: relais-fpm against Debian's php-fpm, both behind the same nginx
# with the same pool and php.ini: ROUNDS rounds, each with a fresh FPM and
# nginx per implementation, php-fpm first in odd rounds, relais-fpm in even.
FPM_ROWS=""
if [ "$NO_FPM" != 1 ]; then
    put fpm_php-fpm version "$("$PHP_FPM" -v | head -1 | awk '{ print "php-fpm8.2_"$2 }')"
    FPM_ROWS="php-fpm "
    if [ -x "$RELAIS_FPM" ]; then
        put fpm_relais-fpm version "relais-fpm_$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
            git -C "$ROOT" diff --quiet HEAD -- src/fpm src/sapi src/fcgi src/core 2>/dev/null ||
            echo +dirty)"
        FPM_ROWS+="relais-fpm "
    else
        log "bench: relais-fpm is missing ($RELAIS_FPM not built): FPM phase without it"
        put fpm_relais-fpm fpm_status missing
    fi
    put all fpm_nginx "$("$NGINX" -v 2>&1 | sed 's/.*nginx\//nginx_/')"
fi
for ((rnd = 1; rnd <= ROUNDS; rnd++)); do
    order=$(rotate "$rnd" $FPM_ROWS)
    [ -n "$order" ] || break
    log_round "$rnd" "FPM (behind nginx)" "$order"
    for s in $order; do
        fpm_phase "$s" || FPM_ROWS=$(remove "$s" $FPM_ROWS)
    done
done
ROUND=0; RP=""
for s in $FPM_ROWS; do put "fpm_$s" fpm_status ok; done

# 4. WordPress: set up once (MariaDB, the site, the web installer through
# Apache, the reference, or relaisd without it), then ROUNDS rounds over
# relaisd and Apache, each with a fresh php-fpm and server, the order rotating.
WP_ROWS=""
if [ "$NO_WP" != 1 ]; then
    for s in $ACTIVE; do case $s in relaisd|apache) WP_ROWS+="$s " ;; esac; done
    if [ -n "$WP_ROWS" ]; then
        first=${WP_ROWS%% *}
        grep -qw apache <<<"$WP_ROWS" && first=apache
        if ! wp_setup "$first"; then
            put all wp_status failed
            WP_ROWS=""
        fi
    fi
elif [ -n "$WP_MISSING" ]; then
    put all wp_note "${WP_MISSING#wordpress.py: }"
else
    put all wp_note "NO_WP=1"
fi
for ((rnd = 1; rnd <= ROUNDS; rnd++)); do
    order=$(rotate "$rnd" $WP_ROWS)
    [ -n "$order" ] || break
    log_round "$rnd" WordPress "$order"
    for s in $order; do
        wp_phase "$s" || WP_ROWS=$(remove "$s" $WP_ROWS)
    done
done
ROUND=0; RP=""
[ -n "$WP_HELPER" ] && stop_server "$WP_HELPER"
for s in $WP_ROWS; do put "wp_$s" wp_status ok; done
for s in $SERVERS; do
    grep -q "^$s status" "$RESULTS" || put "$s" status ok
done
put all elapsed_s $(($(date +%s) - START))
put all machine "$(nproc)_cpus,_$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
put all kernel "$(uname -r)"
put all load "$LOAD"
put all wrk "$(wrk -v 2>&1 | head -1 | awk '{ print $1"_"$2 }')"
[ "$NO_PHP" = 1 ] || put all php "$("$PHP_FPM" -v | head -1 | awk '{ print $1"_"$2"_"$3 }')"
put all php_children "$PHP_CHILDREN"
[ -x "$PHP_FPM" ] && put all fpm "$("$PHP_FPM" -v | head -1 | awk '{ print $1"_"$2 }')"
put all wp_conns "$WP_CONNS"
put all wp_version "$(dpkg-query -W -f='${Version}' wordpress 2>/dev/null | sed 's/+.*//')"
put all mariadb_version "$(dpkg-query -W -f='${Version}' mariadb-server 2>/dev/null | sed 's/^[0-9]*://; s/-.*//')"
put all php_conns "$PHP_CONNS"
put all fpm_only "$FPM_ONLY"
put all fpm_setsid "$FPM_SETSID"
put all relais_fpm "${RELAIS_FPM#$ROOT/}"

"$PY" - "$RESULTS" "$COMMANDS" "$RECORD" "$ROOT/bench/RESULTS.md" "$IDLE_N" "$HOLD" \
    "$DURATION" "$CONNS" "$T" <<'PYEOF'
import datetime, os, re, statistics, sys
res_file, cmd_file, record, md_file = sys.argv[1:5]
idle_n, hold, duration, conns, tmp = int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9]
# R[name][key]: figures taken once; RR[name][round][key]: per round ("r<k>.key").
R, RR = {}, {}
for line in open(res_file):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) == 3:
        rk = re.fullmatch(r"r(\d+)\.(.+)", parts[1])
        if rk:
            RR.setdefault(parts[0], {}).setdefault(int(rk[1]), {})[rk[2]] = parts[2]
        else:
            R.setdefault(parts[0], {})[parts[1]] = parts[2]
rounds = int(R.get("all", {}).get("rounds") or 1)
names = [n for n in ("relaisd", "nginx", "apache") if n in R and R[n].get("status") != "missing"]
label = {"relaisd": "relaisd", "relaisd_kept": "relaisd, kept connections",
         "relais": "relais (relaisd + relais-fpm)", "nginx": "nginx", "apache": "Apache event"}

def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None

def ms(s):
    if not s:
        return None
    for suf, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3), ("m", 6e4)):
        if s.endswith(suf) and num(s[:-len(suf)]) is not None:
            return num(s[:-len(suf)]) * f
    return None

def kv(s):
    out = {}
    for part in (s or "").split(",")[1:]:
        k, _, v = part.partition("=")
        out[k] = int(v) if v.isdigit() else v
    return out

hz = os.sysconf("SC_CLK_TCK")

def round_metrics(r):
    """The speed figures of one round (static and PHP) from its raw keys."""
    m = {}
    m["rps"] = num(r.get("rps"))
    m["p99"] = ms(r.get("p99"))
    m["p50"] = ms(r.get("p50"))
    req, ticks = num(r.get("requests")), num(r.get("cpu_ticks"))
    m["cpu_us"] = ticks / hz * 1e6 / req if req and ticks is not None else None
    m["errors"] = (int(num(r.get("sock_errors")) or 0) + int(num(r.get("non2xx")) or 0)
                   if "rps" in r else None)
    m["rest_mb"] = num(r.get("rest_pss_kb")) / 1024 if r.get("rest_pss_kb") else None
    m["procs"] = r.get("rest_procs")
    # WordPress: php-fpm's and MariaDB's CPU per request, the page's size
    for what in ("fpm", "db"):
        t = num(r.get(f"{what}_ticks"))
        m[f"{what}_us"] = t / hz * 1e6 / req if req and t is not None else None
    m["page_bytes"] = num(r.get("page_bytes"))
    for s in ("hello", "info"):
        k = f"php_{s}_"
        m[k + "rps"] = num(r.get(k + "rps"))
        m[k + "p99"] = ms(r.get(k + "p99"))
        m[k + "p50"] = ms(r.get(k + "p50"))
        m[k + "errors"] = (int(num(r.get(k + "sock_errors")) or 0) + int(num(r.get(k + "non2xx")) or 0)
                           if k + "rps" in r else None)
        preq = num(r.get(k + "requests"))
        for what in ("cpu", "fpm"):
            t = num(r.get(f"{k}{what}_ticks"))
            m[f"{k}{what}_us"] = t / hz * 1e6 / preq if preq and t is not None else None
        # the whole stack's CPU per request: the server's and the FPM's
        m[k + "total_us"] = (m[k + "cpu_us"] + m[k + "fpm_us"]
                             if m[k + "cpu_us"] is not None and m[k + "fpm_us"] is not None else None)
    return m

def metrics(n):
    r = R.get(n, {})
    m = {"status": r.get("status", "ok"), "version": r.get("version", "").replace("_", " ")}
    # Each speed figure is the median over the rounds of that figure (each
    # figure on its own: the median p99 need not come from the median req/s
    # round); errors are summed; "<key>_lo"/"_hi" keep the spread of req/s.
    per = [round_metrics(RR[n][k]) for k in sorted(RR.get(n, {}))]
    for key in (per[0] if per else round_metrics({})):
        vals = [p[key] for p in per if p[key] is not None]
        if key.endswith("errors"):
            m[key] = sum(vals) if vals else 0
        elif key == "procs":
            m[key] = vals[0] if vals else None
        else:
            m[key] = statistics.median(vals) if vals else None
            m[key + "_n"] = len(vals)
            m[key + "_lo"] = min(vals) if vals else None
            m[key + "_hi"] = max(vals) if vals else None
    for mode in ("request", "silent"):
        ready, held = kv(r.get(f"{mode}_ready")), kv(r.get(f"{mode}_held"))
        base, now = num(r.get(f"{mode}_base_pss_kb")), num(r.get(f"{mode}_pss_kb"))
        m[f"{mode}_ready"] = ready.get("idle")
        m[f"{mode}_held"] = held.get("open")
        m[f"{mode}_procs"] = r.get(f"{mode}_procs")
        kept = ready.get("idle") or 0
        m[f"{mode}_per_conn"] = ((now - base) * 1024 / kept
                                 if base is not None and now is not None and kept else None)
        m[f"{mode}_delta_mb"] = (now - base) / 1024 if base is not None and now is not None else None
        rb, rn = num(r.get(f"{mode}_base_rss_kb")), num(r.get(f"{mode}_rss_kb"))
        m[f"{mode}_rss_per_conn"] = ((rn - rb) * 1024 / kept
                                     if rb is not None and rn is not None and kept else None)
    m["php_status"] = r.get("php_status", "-")
    return m

M = {n: metrics(n) for n in names}

def fmt_bytes(b):
    if b is None:
        return "-"
    if abs(b) >= 1024 * 1024:
        return f"{b / 1024 / 1024:.1f} MB"
    if abs(b) >= 10 * 1024:
        return f"{b / 1024:.0f} KB"
    if abs(b) >= 1024:
        return f"{b / 1024:.1f} KB"
    return f"{b:.0f} B"

def f(v, spec, suffix=""):
    return "-" if v is None else format(v, spec) + suffix

def spread(m, key):
    """min–max of req/s over the rounds, and that range as a share of the median."""
    lo, hi, med = m.get(key + "_lo"), m.get(key + "_hi"), m.get(key)
    if lo is None or hi is None:
        return "-"
    pct = f" ({(hi - lo) / med * 100:.0f}%)" if med else ""
    return f"{lo:,.0f}–{hi:,.0f}{pct}"

med_of = f" (median of {rounds})" if rounds > 1 else ""
rows = [
    (f"1 KB static, req/s{med_of}", lambda m: f(m["rps"], ",.0f"), "rps", True),
    *([("  min–max over rounds (range/median)", lambda m: spread(m, "rps"), None, None)]
      if rounds > 1 else []),
    ("  p50 / p99 latency", lambda m: f"{f(m['p50'], '.2f')} / {f(m['p99'], '.2f')} ms", "p99", False),
    ("  wrk errors (socket + non-2xx)", lambda m: str(m["errors"]), None, None),
    ("  server CPU per request", lambda m: f(m["cpu_us"], ".1f", " µs"), "cpu_us", False),
    ("memory at rest (Pss, all procs)", lambda m: f(m["rest_mb"], ".1f", " MB"), "rest_mb", False),
    (f"idle keep-alive conns answered /{idle_n}", lambda m: f(m["request_ready"], "d"), None, None),
    (f"  still open after {hold} s", lambda m: f(m["request_held"], "d"), "request_held", True),
    ("  memory per idle conn (ΔPss)", lambda m: fmt_bytes(m["request_per_conn"]), "request_per_conn", False),
    ("  memory per idle conn (ΔRSS sum)", lambda m: fmt_bytes(m["request_rss_per_conn"]), "request_rss_per_conn", False),
    ("  ΔPss total / processes", lambda m: f"{f(m['request_delta_mb'], '.1f', ' MB')} / {m['request_procs'] or '-'}", None, None),
    (f"silent conns connected /{idle_n}", lambda m: f(m["silent_ready"], "d"), None, None),
    (f"  still open after {hold} s", lambda m: f(m["silent_held"], "d"), "silent_held", True),
    ("  memory per silent conn (ΔPss)", lambda m: fmt_bytes(m["silent_per_conn"]), "silent_per_conn", False),
]

ok = [n for n in names if M[n]["status"] == "ok"]
subject = "relaisd" if "relaisd" in ok else ("nginx" if "nginx" in ok else None)
refs = [r for r in ("nginx", "apache") if r in ok and r != subject]
ratio_heads = [f"{label[subject]} ÷ {label[r]}" for r in refs] if subject else []

def ratio(key, a, b):
    x, y = M[a].get(key), M[b].get(key)
    if x is None or y is None or y == 0:
        return "-"
    return f"{x / y:.2f}×"

head = ["", *[label[n] for n in names], *ratio_heads]
table = [head, ["", *[M[n]["version"] or M[n]["status"] for n in names], *["" for _ in ratio_heads]]]
for title, fn, key, _ in rows:
    cells = [fn(M[n]) if M[n]["status"] == "ok" else M[n]["status"] for n in names]
    table.append([title, *cells, *[ratio(key, subject, r) if key else "" for r in refs]])

# The PHP table: one row per server (relaisd three times: one FastCGI
# connection per request, as the others, then kept connections, then in
# front of relais-fpm instead of php-fpm: the relais stack), each relaisd
# row followed by its ratios to nginx and to Apache.
php_names = [n for n in ("relaisd", "relaisd_kept", "relais", "nginx", "apache")
             if R.get(n, {}).get("php_status") in ("ok", "failed")]
for n in php_names:
    M.setdefault(n, metrics(n))
php_ok = [n for n in php_names if M[n]["php_status"] == "ok"]
php_subjects = [n for n in ("relaisd", "relaisd_kept", "relais") if n in php_ok] or \
               [n for n in ("nginx",) if n in php_ok]
php_refs = [r for r in ("nginx", "apache") if r in php_ok and r not in php_subjects]
# With several rounds, a column after req/s gives its spread (min–max).
def php_row(title, rps, rng, *rest):
    return [title, rps, *([rng] if rounds > 1 else []), *rest]
stack = "relais" in php_names
php_head = php_row(("PHP through FastCGI (php-fpm; relais: relais-fpm)" if stack else
                    "PHP through php-fpm") + (f" (medians of {rounds})" if rounds > 1 else ""),
                   "req/s", "min–max req/s (range/median)", "p50 / p99 latency", "wrk errors",
                   "server CPU / req", ("FPM" if stack else "php-fpm") + " CPU / req",
                   "server + FPM CPU / req")
php_table = [php_head]
for s, title in (("hello", "hello.php (Hello, world)"), ("info", "info.php (phpinfo())")):
    k = f"php_{s}_"
    php_table.append(php_row(title, "", "", "", "", "", "", ""))
    for n in php_names:
        m = M[n]
        if m["php_status"] != "ok":
            php_table.append(php_row("  " + label[n], m["php_status"], "", "", "", "", "", ""))
            continue
        php_table.append(php_row("  " + label[n], f(m[k + "rps"], ",.0f"), spread(m, k + "rps"),
                                 f"{f(m[k + 'p50'], '.2f')} / {f(m[k + 'p99'], '.2f')} ms",
                                 str(m[k + "errors"]), f(m[k + "cpu_us"], ".1f", " µs"),
                                 f(m[k + "fpm_us"], ".1f", " µs"), f(m[k + "total_us"], ".1f", " µs")))
        if n in php_subjects:
            for r in php_refs:
                php_table.append(php_row(f"    ÷ {label[r]}", ratio(k + "rps", n, r), "",
                                         ratio(k + "p99", n, r), "", ratio(k + "cpu_us", n, r),
                                         ratio(k + "fpm_us", n, r), ratio(k + "total_us", n, r)))
def fmt_us(v):
    return "-" if v is None else (f"{v / 1000:,.1f} ms" if v >= 10000 else
                                  f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.1f} µs")

def lat(m):
    return f"{f(m['p50'], '.2f')} / {f(m['p99'], '.2f')} ms"

# The .htaccess table: relaisd and Apache, each with AllowOverride None then
# All on the same file, and All ÷ None.
ht_servers = [n for n in ("relaisd", "apache") if R.get("ht_" + n, {}).get("ht_status")]
ht_table = []
if ht_servers:
    ht_table.append(php_row(".htaccess lookup, /1k.bin, DocumentRoot 3 directories below "
                            "the AllowOverride" + (f" (medians of {rounds})" if rounds > 1 else ""),
                            "req/s", "min–max req/s (range/median)", "p50 / p99 latency",
                            "wrk errors", "server CPU / req", "GET / (dir, no index)"))
    for n in ht_servers:
        if R["ht_" + n]["ht_status"] != "ok":
            ht_table.append(php_row("  " + label[n], R["ht_" + n]["ht_status"], "", "", "", "", ""))
            continue
        for mode in ("none", "all"):
            row = f"ht_{n}_{mode}"
            m = M.setdefault(row, metrics(row))
            ht_table.append(php_row(f"  {label[n]}, AllowOverride {mode.capitalize()}",
                                    f(m["rps"], ",.0f"), spread(m, "rps"), lat(m),
                                    str(m["errors"]), f(m["cpu_us"], ".1f", " µs"),
                                    R.get(row, {}).get("index_status", "-")))
        a, b = f"ht_{n}_all", f"ht_{n}_none"
        ht_table.append(php_row("    All ÷ None", ratio("rps", a, b), "", ratio("p99", a, b), "",
                                ratio("cpu_us", a, b), ""))

# The WordPress table: relaisd and Apache on the same site, database and pool.
wp_names = [n for n in ("relaisd", "apache") if R.get("wp_" + n, {}).get("wp_status")]
wp_table = []
wp_size = None
if wp_names:
    for n in wp_names:
        M.setdefault("wp_" + n, metrics("wp_" + n))
    sizes = [M["wp_" + n].get("page_bytes") for n in wp_names if M["wp_" + n].get("page_bytes")]
    wp_size = statistics.median(sizes) if sizes else None
    wp_table.append(php_row("WordPress front page, GET /" + (f" ({fmt_bytes(wp_size)})" if wp_size else "")
                            + (f" (medians of {rounds})" if rounds > 1 else ""),
                            "req/s", "min–max req/s (range/median)", "p50 / p99 latency",
                            "wrk errors", "server CPU / req", "php-fpm CPU / req",
                            "MariaDB CPU / req"))
    for n in wp_names:
        m = M["wp_" + n]
        if R["wp_" + n]["wp_status"] != "ok":
            wp_table.append(php_row("  " + label[n], R["wp_" + n]["wp_status"], "", "", "", "", "", ""))
            continue
        wp_table.append(php_row("  " + label[n], f(m["rps"], ",.1f"), spread(m, "rps"), lat(m),
                                str(m["errors"]), fmt_us(m["cpu_us"]), fmt_us(m["fpm_us"]),
                                fmt_us(m["db_us"])))
    if len(wp_names) == 2 and all(R["wp_" + n]["wp_status"] == "ok" for n in wp_names):
        a, b = "wp_relaisd", "wp_apache"
        wp_table.append(php_row("  relaisd ÷ Apache event", ratio("rps", a, b), "", ratio("p99", a, b),
                                "", ratio("cpu_us", a, b), ratio("fpm_us", a, b), ratio("db_us", a, b)))

K = R.get("relaisd_kept", {})
def kept_note(q=""):
    if "relaisd_kept" not in php_names:
        return None
    proxy = f'<Proxy "unix:…/php.sock|fcgi://localhost" enablereuse=on max={K.get("php_max")}>'
    w, n, c = (int(num(x) or 0) for x in (K.get("php_workers"), K.get("php_max"),
                                           R["all"].get("php_children")))
    return (f"relaisd, kept connections: {q}{proxy}{q}, {w} worker processes "
            f"× {n} {'≤' if w * n <= c else '>'} {c} php-fpm children; the other "
            f"rows open a FastCGI connection per request")

S = R.get("relais", {})
def stack_note(q=""):
    if "relais" not in php_names:
        return None
    return (f"relais (relaisd + relais-fpm): the relaisd row's configuration (one FastCGI connection "
            f"per request) in front of {q}{A.get('relais_fpm')} -F -y php-fpm.conf -p DIR{q} "
            f"({S.get('version', '').replace('_', ' ')}; the same php-fpm.conf and php.ini as the "
            f"php-fpm rows, a session of its own: {S.get('php_fpm_session', '-')}); its ratios "
            f"compare whole stacks, server + FPM, with nginx + php-fpm and Apache event + php-fpm")

# The FPM table: php-fpm and relais-fpm behind the same nginx, one column
# each, then relais-fpm ÷ php-fpm (medians over the rounds; memory sampled
# after each round's two runs).
FPM = {n: R.get("fpm_" + n, {}) for n in ("php-fpm", "relais-fpm")}
fpm_names = [n for n in FPM if FPM[n].get("fpm_status") or FPM[n].get("version")]

def fpm_metrics(n):
    per = []
    for k in sorted(RR.get("fpm_" + n, {})):
        r, m = RR["fpm_" + n][k], {}
        for sc in ("hello", "info"):
            req = num(r.get(f"{sc}_requests"))
            m[f"{sc}_rps"] = num(r.get(f"{sc}_rps"))
            m[f"{sc}_p50"], m[f"{sc}_p99"] = ms(r.get(f"{sc}_p50")), ms(r.get(f"{sc}_p99"))
            m[f"{sc}_errors"] = (int(num(r.get(f"{sc}_sock_errors")) or 0)
                                 + int(num(r.get(f"{sc}_non2xx")) or 0)) if f"{sc}_rps" in r else None
            for what in ("fpm", "cpu"):
                t = num(r.get(f"{sc}_{what}_ticks"))
                m[f"{sc}_{what}_us"] = t / hz * 1e6 / req if req and t is not None else None
        for key in ("child_rss_kb", "child_pss_kb", "child_pdirty_kb", "master_pss_kb",
                    "leader_pss_kb", "tree_pss_kb", "children", "tree_procs", "leaders"):
            m[key] = num(r.get(key))
        per.append(m)
    out = {}
    for key in (per[0] if per else {}):
        vals = [p[key] for p in per if p[key] is not None]
        if key.endswith("errors"):
            out[key] = sum(vals) if vals else 0
            continue
        out[key] = statistics.median(vals) if vals else None
        out[key + "_lo"] = min(vals) if vals else None
        out[key + "_hi"] = max(vals) if vals else None
    return out

FM = {n: fpm_metrics(n) for n in fpm_names}
fpm_ok = [n for n in fpm_names if FPM[n].get("fpm_status") == "ok"]
fpm_table = []
if fpm_names:
    both = len(fpm_ok) == 2
    def fr(key):
        if not both:
            return ""
        x, y = FM["relais-fpm"].get(key), FM["php-fpm"].get(key)
        return "-" if x is None or y is None or y == 0 else f"{x / y:.2f}×"
    def cells(fn):
        return [fn(FM[n]) if n in fpm_ok else FPM[n].get("fpm_status", "-") for n in fpm_names]
    def kb(v):
        return fmt_bytes(v * 1024 if v is not None else None)
    def cnt(v):
        return "-" if v is None else f"{v:.0f}"
    fpm_table.append(["relais-fpm vs php-fpm, behind nginx" + (f" (medians of {rounds})" if rounds > 1 else ""),
                      *fpm_names, *(["relais-fpm ÷ php-fpm"] if both else [])])
    fpm_table.append(["", *[FPM[n].get("version", "").replace("_", " ") for n in fpm_names],
                      *([""] if both else [])])
    def add(title, fn, key):
        fpm_table.append([title, *cells(fn), *([fr(key) if key else ""] if both else [])])
    for sc, title in (("hello", "hello.php, req/s"), ("info", "info.php (phpinfo()), req/s")):
        add(title, lambda m: f(m.get(sc + "_rps"), ",.0f"), sc + "_rps")
        if rounds > 1:
            add("  min–max over rounds (range/median)", lambda m: spread(m, sc + "_rps"), None)
        add("  p50 / p99 latency", lambda m: f"{f(m.get(sc + '_p50'), '.2f')} / {f(m.get(sc + '_p99'), '.2f')} ms",
            sc + "_p99")
        add("  wrk errors (socket + non-2xx)", lambda m: str(m.get(sc + "_errors")), None)
        add("  FPM CPU per request (master + leader + children)",
            lambda m: f(m.get(sc + "_fpm_us"), ".1f", " µs"), sc + "_fpm_us")
        add("  nginx CPU per request", lambda m: f(m.get(sc + "_cpu_us"), ".1f", " µs"), sc + "_cpu_us")
    add("memory per child after the runs (mean over the children)",
        lambda m: f"{cnt(m.get('children'))} children", None)
    add("  RSS", lambda m: kb(m.get("child_rss_kb")), "child_rss_kb")
    add("  PSS", lambda m: kb(m.get("child_pss_kb")), "child_pss_kb")
    add("  Private_Dirty", lambda m: kb(m.get("child_pdirty_kb")), "child_pdirty_kb")
    add("whole FPM tree, PSS sum (master + leader + children)", lambda m: kb(m.get("tree_pss_kb")),
        "tree_pss_kb")
    add("  of which master / pool leader", lambda m: f"{kb(m.get('master_pss_kb'))} / "
        + (kb(m.get("leader_pss_kb")) if m.get("leaders") else "none"), None)
    add("  processes", lambda m: cnt(m.get("tree_procs")), None)
    for k, title in (("sapi", "phpinfo() (round 1): Server API"), ("php_ini", "  Loaded Configuration File"),
                     ("opcache", "  Opcode Caching")):
        fpm_table.append([title, *[FPM[n].get(k, "-").replace("_", " ") for n in fpm_names],
                          *([""] if both else [])])
    fpm_table.append(["session (own: its own, a scheduling autogroup; ours: the script's)",
                      *[FPM[n].get("session", "-") for n in fpm_names], *([""] if both else [])])

def show(t, sep_after):
    w = [max(len(r[i]) for r in t) for i in range(len(t[0]))]
    for i, r in enumerate(t):
        print("  ".join(c.ljust(w[j]) if j == 0 else c.rjust(w[j]) for j, c in enumerate(r)))
        if i == sep_after:
            print("  ".join("-" * x for x in w))

def md_table(t):
    return ["| " + " | ".join(t[0]) + " |",
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(t[0]))) + "|",
            *["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in t[1:]]]

fpm_only = R.get("all", {}).get("fpm_only") == "1"
if names:
    print()
    show(table, 1)
if php_names:
    print()
    show(php_table, 0)
if ht_table:
    print()
    show(ht_table, 0)
if wp_table:
    print()
    show(wp_table, 0)
if fpm_table:
    print()
    show(fpm_table, 1)
for n in ("relaisd", "relaisd_kept", "relais", "nginx", "apache"):
    st = R.get(n, {}).get("status")
    if st == "missing":
        print(f"\n{label[n]}: not built, not measured")
    elif st not in (None, "ok"):
        print(f"\n{label[n]}: {st} (see the messages above)")
    elif R.get(n, {}).get("php_status") == "failed":
        print(f"\n{label[n]}: PHP failed (see the messages above)")
    elif R.get(n, {}).get("php_status") == "missing":
        print(f"\n{label[n]}: relais-fpm not built, not measured")
for n in ("relaisd", "apache"):
    if R.get("ht_" + n, {}).get("ht_status") == "failed":
        print(f"\n{label[n]}: .htaccess phase failed (see the messages above)")
    if R.get("wp_" + n, {}).get("wp_status") == "failed":
        print(f"\n{label[n]}: WordPress failed (see the messages above)")
for n in fpm_names:
    if FPM[n].get("fpm_status") == "missing":
        print(f"\n{n}: not built, not measured")
    elif FPM[n].get("fpm_status") != "ok":
        print(f"\n{n} behind nginx: failed (see the messages above)")
A = R["all"]
php_line = (f"PHP: {A.get('php', '').replace('_', ' ')}, a fresh php-fpm"
            f"{' (relais: relais-fpm)' if 'relais' in php_names else ''} and server per row "
            f"and round, pm static {A.get('php_children')} children, Debian's php.ini; "
            f"wrk -t1 -c{A.get('php_conns')} -d{duration}s" if A.get("php") else "PHP: not measured")
rounds_line = (f"{rounds} rounds: in each, every server (static), every PHP row, relaisd and "
               f"Apache with AllowOverride None and All, and relaisd and Apache on WordPress ran once, "
               f"a fresh server each time, the order rotating (round k starts with the k-th); "
               f"req/s, latency, CPU and memory at rest are medians over the rounds, ratios are "
               f"of medians, errors are summed; the idle-connection phases ran once"
               if rounds > 1 else
               "1 round: each figure is a single measurement (ROUNDS=3 for medians)")
def ht_line(q=""):
    if not ht_table:
        return "AllowOverride: not measured"
    return (f"AllowOverride: relaisd and Apache, /1k.bin from {q}$T/htaccess/a/b/c{q}, "
            f"{q}<Directory $T/htaccess>{q} AllowOverride None or All (All: .htaccess looked for "
            f"in 4 directories, found in one, a/b: {q}Options -Indexes{q}), the two back to back "
            f"in each round, wrk -t1 -c{conns} -d{duration}s")
if A.get("wp_status") == "failed":
    wp_line = "WordPress: the setup failed (see the messages above)"
elif wp_table:
    wp_line = (f"WordPress: Debian's wordpress {A.get('wp_version')} (theme twentytwentythree), "
               f"MariaDB {A.get('mariadb_version')}, installed once through the web installer, "
               f"permalinks /%postname%/ (WordPress' .htaccess, AllowOverride All, Apache with "
               f"mod_rewrite), no page cache; a fresh {A.get('fpm', '').replace('_', ' ')} "
               f"(pm static {A.get('php_children')} children, Debian's php.ini, opcache) and server "
               f"per row and round; wrk -t1 -c{A.get('wp_conns')} -d{duration}s on GET /")
else:
    wp_line = f"WordPress: not measured ({A.get('wp_note', 'no relaisd or Apache')})"
def fpm_line(q=""):
    if not fpm_table:
        return "FPM: not measured"
    return (f"FPM: Debian's php-fpm8.2 and relais-fpm ({q}{A.get('relais_fpm')}{q}, the same "
            f"command line {q}-F -y php-fpm.conf -p DIR{q} and configuration), each behind a fresh "
            f"{A.get('fpm_nginx', 'nginx').replace('_', ' ')} (Debian's PHP location, one FastCGI "
            f"connection per request) per row and round, the order alternating, each FPM started "
            + (f"by {q}setsid{q} (a session, so a scheduling autogroup, of its own, as php-fpm "
               f"makes itself anyway)" if A.get("fpm_setsid") != "0" else
               f"without {q}setsid{q} (FPM_SETSID=0)")
            + f"; pool pm static "
            f"{A.get('php_children')} children, user www-data, a unix socket; Debian's "
            f"/etc/php/8.2/fpm php.ini and conf.d (opcache); wrk -t1 -c{A.get('php_conns')} "
            f"-d{duration}s on hello.php then info.php, each after a warm-up; FPM CPU: the master "
            f"(with its reaped children), relais-fpm's pool leader and the children; memory from "
            f"/proc/PID/smaps_rollup 0.5 s after the info.php run, relais-fpm's pool leader counted "
            f"in its tree's total, not as a child")
if fpm_only:
    rounds_line = (f"{rounds} rounds of the FPM phase alone (FPM_ONLY=1): in each, php-fpm and "
                   f"relais-fpm ran once, the order alternating; figures are medians over the rounds, "
                   f"ratios are of medians, errors are summed" if rounds > 1 else
                   "1 round of the FPM phase alone (FPM_ONLY=1): each figure is a single measurement")
    print(f"\n{rounds_line}.\n{fpm_line()}.")
else:
    print(f"\n{rounds_line}.\n{php_line}\n{ht_line()}.\n{wp_line}.\n{fpm_line()}.")
if kept_note():
    print(kept_note())
if stack_note():
    print(stack_note())
print(f"ratios: lower is better for latency, CPU and memory; higher for req/s and "
      f"connections held. Run took {R['all'].get('elapsed_s')} s. Method: bench/README.md")

if record == "1":
    now = datetime.datetime.now(datetime.timezone.utc)
    md = [f"\n## {now:%Y-%m-%d %H:%M} UTC\n",
          f"Machine: {R['all'].get('machine', '').replace('_', ' ')}, kernel {R['all'].get('kernel')}; "
          f"{R['all'].get('wrk', '').replace('_', ' ')}; wrk -t1 -c{conns} -d{duration}s pinned "
          f"to CPU 1; {idle_n} idle connections held {hold} s; load average at the "
          f"start {R['all'].get('load')}. {rounds_line}. {php_line}.\n",
          *md_table(table)]
    if fpm_only:
        md = [md[0], f"Machine: {R['all'].get('machine', '').replace('_', ' ')}, kernel "
              f"{R['all'].get('kernel')}; {R['all'].get('wrk', '').replace('_', ' ')}, pinned to CPU 1; "
              f"load average at the start {R['all'].get('load')}. {rounds_line}.\n"]
    if php_names:
        md += ["", *md_table(php_table)]
    if ht_table:
        md += ["", *md_table(ht_table)]
    if wp_table:
        md += ["", *md_table(wp_table)]
    if fpm_table:
        md += [*([] if fpm_only else [""]), *md_table(fpm_table)]
    md.append(f"\n{fpm_line('`')}." if fpm_only else f"\n{ht_line('`')}. {wp_line}. {fpm_line('`')}.")
    if kept_note():
        md.append("\n" + kept_note("`") + ".")
    if stack_note():
        md.append("\n" + stack_note("`") + ".")
    md.append("\nCommands (ports and temp paths are per run):\n\n```")
    md += [ln.rstrip("\n").replace(tmp, "$T") for ln in open(cmd_file)]
    md.append("```")
    with open(md_file, "a") as fh:
        fh.write("\n".join(md) + "\n")
    print(f"recorded in {md_file}")
PYEOF
# A server that was there but failed makes the run fail (a missing relaisd does not).
! grep -q ' \(php_\|ht_\|wp_\|fpm_\)\{0,1\}status failed$' "$RESULTS"
