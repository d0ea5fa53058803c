#!/usr/bin/env bash
# Reproducible whole-process benchmarks of miglint (README, "Performance").
# Generates the synthetic repositories once under bench-data/ (deterministic), then times each
# workload with hyperfine (median of several runs) and measures peak memory with /usr/bin/time.
#   benches/run.sh            # everything
#   benches/run.sh check      # only workloads whose name contains "check"
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install -y hyperfine" >&2; exit 2; }
cargo build --release --quiet --bin miglint --example bench_gen
root=$(pwd)
m="$root/target/release/miglint"
gen="$root/target/release/examples/bench_gen"
B="$root/bench-data"
mkdir -p "$B"
[ -d "$B/check10k" ] || "$gen" plain 10000 "$B/check10k"
[ -d "$B/check10k/.git" ] || (cd "$B/check10k" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm data)
[ -d "$B/staged1k" ] || "$gen" staged 1000 "$B/staged1k"
[ -d "$B/behind10k" ] || "$gen" behind 10000 1000 "$B/behind10k"
[ -d "$B/history100k" ] || "$gen" history 100000 5000 "$B/history100k"
[ -d "$B/alembic10k" ] || "$gen" alembic 10000 "$B/alembic10k"

results="$B/results.md"
: > "$results"
bench() { # name dir command [prepare]
    local name=$1 dir=$2 cmd=$3 prepare=${4:-true}
    case "$name" in *"$filter"*) ;; *) return ;; esac
    hyperfine --style basic --time-unit millisecond -w 2 -r 10 -i -n "$name" --prepare "$prepare" "cd $dir && $cmd" --export-markdown "$B/.one.md" >/dev/null
    tail -n 1 "$B/.one.md" >> "$results"
    tail -n 1 "$B/.one.md"
}
echo "| workload | mean [ms] | min [ms] | max [ms] | relative |"
bench "check 10,000 migrations, cold" "$B/check10k" "$m check" "rm -rf $B/check10k/.git/miglint"
bench "check 10,000 migrations, cold, --all (every file parsed)" "$B/check10k" "$m check --all" "rm -rf $B/check10k/.git/miglint"
bench "check 10,000 migrations, warm" "$B/check10k" "$m check"
bench "check --staged, 1,000 migrations + 1 new" "$B/staged1k" "$m check --staged"
bench "check without --base (base 10,000 commits ahead)" "$B/behind10k" "$m check"
bench "check --base (base 10,000 commits ahead)" "$B/behind10k" "$m check --base main"
bench "check --history, 100,000 commits, 5,000 migrations, first audit" "$B/history100k" "$m check --history" "rm -f $B/history100k/.git/miglint/history-*"
bench "check --history, the same, resumed (no new commits)" "$B/history100k" "$m check --history"
bench "alembic heads, 10,000 revisions" "$B/alembic10k" "$m alembic heads"
case "memory" in *"$filter"*)
    rss=$(cd "$B/check10k" && rm -rf .git/miglint && /usr/bin/time -f %M "$m" check 2>&1 >/dev/null | tail -n 1)
    echo "peak memory, check of 10,000 migrations (cold): $((rss / 1024)) MB" | tee -a "$results";;
esac
# Side by side with squawk (PyPI: `pip install squawk-cli`; SQUAWK=/path/to/squawk) on the same
# files, in one hyperfine invocation, so the printed ratio compares like with like.
squawk=${SQUAWK:-$(command -v squawk || true)}
# The matrix: 1,000 / 10,000 / 100,000 migrations, 0% / 90% / 100% of them recorded (the same
# files, three ledgers), cold (no analysis cache) and warm, squawk on the same files in the same
# hyperfine run; then peak memory at each size. `benches/run.sh matrix` runs only this.
case "matrix" in *"$filter"*)
    for n in 1000 10000 100000; do
        d="$B/plain$n"
        [ -d "$d/.git" ] || { "$gen" plain "$n" "$d" && (cd "$d" && git init -q && git add -A \
            && git -c user.name=b -c user.email=b@b commit -qm data); }
        runs=10; [ "$n" -ge 100000 ] && runs=3
        sq=(); [ -n "$squawk" ] && sq=(-n "squawk" "$squawk 'migrations/*.sql'")
        echo "### $n migrations" | tee -a "$results"
        (cd "$d" && hyperfine --style basic -w 1 -r "$runs" -i --time-unit millisecond \
            --prepare "rm -rf $d/.git/miglint" \
            -n "miglint, cold, 90% recorded" "$m check" \
            -n "miglint, cold, 0% recorded" "$m --config miglint-0.toml check" \
            -n "miglint, cold, 100% recorded" "$m --config miglint-100.toml check" \
            "${sq[@]}" --export-markdown "$B/.matrix.md" | grep -E "faster|±" )
        cat "$B/.matrix.md" >> "$results"
        (cd "$d" && "$m" check >/dev/null 2>&1 || true
         hyperfine --style basic -w 2 -r "$runs" -i --time-unit millisecond \
            -n "miglint, warm, 90% recorded" "$m check" --export-markdown "$B/.matrix.md" >/dev/null)
        tail -n 1 "$B/.matrix.md" | tee -a "$results"
        rss=$(cd "$d" && rm -rf .git/miglint && /usr/bin/time -f %M "$m" check 2>&1 >/dev/null | tail -n 1)
        bytes=$(find "$d/migrations" -name '*.sql' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
        echo "peak memory, $n migrations, cold: $((rss / 1024)) MB for $((bytes / 1048576)) MB of SQL" | tee -a "$results"
    done;;
esac
case "squawk" in *"$filter"*)
    if [ -n "$squawk" ]; then
        (cd "$B/check10k" && hyperfine --style basic -w 2 -r 10 -i \
            --prepare "rm -rf $B/check10k/.git/miglint" \
            -n "miglint check, cold (90% recorded)" "$m check" \
            -n "miglint check --all, cold" "$m check --all" \
            -n "squawk, same files" "$squawk migrations/*.sql" \
            --export-markdown "$B/.squawk.md" | grep -E "faster|±" ) | tee -a "$results"
    else
        echo "squawk not found: pip install squawk-cli, or set SQUAWK" | tee -a "$results"
    fi;;
esac
