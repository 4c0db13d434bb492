#!/bin/sh
# Runs every libFuzzer target of a fuzz build for a while; fails on a crash.
#   scripts/fuzz.sh <fuzz-build-dir> <seconds-per-target>     (`make fuzz`)
#
# For each <dir>/fuzz_<name>: the seeds of fuzz/corpus/<name>/ are copied into
# <dir>/corpus/<name>/ (new inputs land there, never in the repo), with
# fuzz/<name>.dict as dictionary when it exists. Crash, leak and timeout
# inputs go to <dir>/artifacts/<name>/; each is printed with the command
# that replays it. Targets run one after the other; each is bounded by
# <seconds> + 60 s of wall-clock time.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 <fuzz-build-dir> <seconds>" >&2
    exit 2
fi
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
dir=$1
secs=$2
case $dir in /*) ;; *) dir="$root/$dir" ;; esac
case $secs in ''|*[!0-9]*) echo "fuzz: <seconds> must be a number" >&2; exit 2 ;; esac

targets=$(find "$dir" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
if [ -z "$targets" ]; then
    echo "fuzz: no fuzz_* binaries in $dir (no targets in fuzz/, or the build failed)" >&2
    exit 2
fi

failed=""
for bin in $targets; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    seeds="$root/fuzz/corpus/$name"
    corpus="$dir/corpus/$name"
    art="$dir/artifacts/$name"
    mkdir -p "$corpus" "$art"
    if [ -d "$seeds" ]; then
        cp -R "$seeds/." "$corpus/"
    else
        echo "fuzz: warning: no seed corpus $seeds" >&2
    fi
    dict=""
    [ -f "$root/fuzz/$name.dict" ] && dict="-dict=$root/fuzz/$name.dict"
    find "$art" -type f | sort >"$dir/.fuzz_before"
    n0=$(find "$corpus" -type f | wc -l)
    log="$dir/fuzz_$name.log"
    echo "fuzz: $name for ${secs}s (corpus $n0 inputs)"
    # -timeout: one input slower than 10 s is a hang; -rss_limit_mb bounds memory.
    timeout -k 10 $((secs + 60)) "$bin" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        $dict "$corpus" >"$log" 2>&1
    rc=$?
    n1=$(find "$corpus" -type f | wc -l)
    new_art=$(find "$art" -type f | sort | comm -13 "$dir/.fuzz_before" -)
    rm -f "$dir/.fuzz_before"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -ne 0 ] || [ -n "$new_art" ]; then
        echo "fuzz: $name FAILED (exit $rc); the last lines of $log:" >&2
        tail -n 40 "$log" >&2
        for f in $new_art; do
            echo "fuzz:   replay: $bin $f" >&2
        done
        failed="$failed $name"
    else
        echo "fuzz: $name ok: ${execs:-?} runs, corpus $n0 -> $n1 inputs"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzz: FAILED:$failed" >&2
    exit 1
fi
echo "fuzz: all targets ran ${secs}s without a crash"
