#!/usr/bin/env bash
# Hostile inputs, run by hand (not a timed test): each case must finish within its time limit and
# stay under its memory limit. Prints one line per case and exits 1 if any limit is broken.
#   benches/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin miglint
m="$(pwd)/target/release/miglint"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
# case NAME DIR MAX_SECONDS MAX_MB ARGS…: runs miglint ARGS in DIR under a hard timeout.
case_() {
    local name=$1 dir=$2 max_s=$3 max_mb=$4; shift 4
    local start end rc rss
    rm -rf "$dir/.git/miglint" # every case cold: no analysis cached by an earlier case
    start=$(date +%s.%N)
    set +e
    rss=$(cd "$dir" && timeout $((max_s * 3)) /usr/bin/time -f %M "$m" "$@" 2>&1 >/dev/null | tail -n 1)
    rc=${PIPESTATUS[0]}
    set -e
    end=$(date +%s.%N)
    local secs mb verdict=ok
    secs=$(echo "$end - $start" | bc)
    mb=$(( ${rss:-0} / 1024 ))
    if (( $(echo "$secs > $max_s" | bc) )) || (( mb > max_mb )); then verdict=FAILED; failed=1; fi
    printf '%-62s %6.2f s (limit %s)  %5d MB (limit %s)  %s\n' "$name" "$secs" "$max_s" "$mb" "$max_mb" "$verdict"
}
repo() { mkdir -p "$1/migrations" && git -C "$1" init -q && printf 'SELECT 1;\n' > "$1/migrations/0000_a.sql"; }

repo "$work/fifo"; mkfifo "$work/fifo/migrations/0001_pipe.sql" "$work/fifo/migrations/applied.sha256"
case_ "FIFO migration and FIFO ledger" "$work/fifo" 2 100 check

repo "$work/zero"; ln -s /dev/zero "$work/zero/migrations/applied.sha256"
mkdir -p "$work/zero/alembic/versions"; printf '[alembic]\nscript_location = alembic\n' > "$work/zero/alembic.ini"
ln -s /dev/zero "$work/zero/alembic/versions/a1_zero.py"
case_ "ledger and revision file linked to /dev/zero" "$work/zero" 2 100 check

repo "$work/big"; truncate -s 2G "$work/big/migrations/0001_big.sql"
case_ "sparse 2 GiB migration (max_file_size 16 MiB)" "$work/big" 10 100 check

# CRLF ledgers of N lines, one finding each, rendered in every format; the larger one shows memory
# stays linear in the findings (SARIF once built a JSON tree of them: 1.8 GB at 200,000).
for n in 20000 200000; do
    repo "$work/crlf$n"
    python3 - "$work/crlf$n/migrations/applied.sha256" "$n" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2])):
        f.write(b"not-a-digest  %06d_x.sql\r\n" % i)
PY
    limit_s=1; limit_mb=200; [ "$n" -gt 20000 ] && { limit_s=5; limit_mb=400; }
    for fmt in human json github sarif; do
        case_ "CRLF ledger, $(printf "%'d" "$n") findings, --format $fmt" "$work/crlf$n" "$limit_s" "$limit_mb" check --format "$fmt"
    done
done
# Round two (issue 28): deep expressions, many errors on one line, one long valid line, a huge
# gap, and a 16 MB migration of dense tokens, each in JSON and human output.
gen() { # DIR PYTHON-EXPR: writes migrations/0000_a.sql as the expression's value
    repo "$1"; python3 -c "open('$1/migrations/0000_a.sql','w').write($2)"
}
gen "$work/deep" "'SELECT ' + '1+'*300000 + '1;'"
gen "$work/errors" "' '.join('SELEC %d;' % i for i in range(100000))"
gen "$work/longline" "'INSERT INTO t VALUES ' + ','.join('(%d, \\'abc\\')' % i for i in range(7000)) + '; ALTER SEQUENCE s OWNED BY t.id;'"
gen "$work/dense16" "'SELECT ' + ',\\n'.join('1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1' for _ in range(400000)) + ';'"
gen "$work/inserts" "'CREATE TABLE t (a int, b text, c int);\\n' + ''.join('INSERT INTO t (a, b, c) VALUES (%d, \\'x%d\\', %d);\\n' % (i, i, i) for i in range(60000))"
# One statement's tree (sqlparser's items are large, the vectors double): a list over the
# statement budget is refused before tokenizing; the worst list under it stays under 512 MB;
# 16 MB of statements under the budget stays under 20× the file.
gen "$work/list" "'SELECT ' + '1,'*300000 + '1;'"
gen "$work/orderby" "'SELECT 1 FROM t ORDER BY ' + '1,'*99990 + '1;'"
gen "$work/bigins" "('INSERT INTO t VALUES ' + ','.join('(%d, \\'abc\\', true)' % i for i in range(24000)) + ';\\n')*30"
gen "$work/copyrows" "'CREATE TABLE t (a int, b text);\\nCOPY t (a, b) FROM stdin;\\n' + ''.join('%d\\tO\\'Brien; row %d\\n' % (i, i) for i in range(600000)) + '\\\\.\\nSELECT 1;\\n'"
repo "$work/gap"; printf '[[set]]\ndir = "migrations"\nwidth = 12\n' > "$work/gap/miglint.toml"
printf 'SELECT 1;\n' > "$work/gap/migrations/000900000000_b.sql"; mv "$work/gap/migrations/0000_a.sql" "$work/gap/migrations/000000000000_a.sql"
for fmt in json human; do
    case_ "SELECT 1+1+… (300,000 operators), --format $fmt" "$work/deep" 2 200 check --format "$fmt"
    case_ "3.4 MB of 60,000 INSERT statements (≤ 20× the file), --format $fmt" "$work/inserts" 2 68 check --format "$fmt"
    case_ "100,000 errors on one 1.3 MB line, --format $fmt" "$work/errors" 2 300 check --format "$fmt"
    case_ "a valid 97 KB migration on one line, --format $fmt" "$work/longline" 2 100 check --format "$fmt"
    case_ "number gap of 9×10^11 (width 12), --format $fmt" "$work/gap" 2 100 check --format "$fmt"
    case_ "16 MB of dense expressions, --format $fmt" "$work/dense16" 20 512 check --format "$fmt"
    case_ "600 KB SELECT 1,1,… (600,000 tokens: over the budget), --format $fmt" "$work/list" 2 40 check --format "$fmt"
    case_ "ORDER BY of 200,000 tokens (the worst under the budget), --format $fmt" "$work/orderby" 5 512 check --format "$fmt"
    case_ "15 MB of COPY rows (data: skipped, never tokenized), --format $fmt" "$work/copyrows" 2 100 check --format "$fmt"
    case_ "15 MB of 30 INSERTs of 24,000 rows (≤ 20× the file), --format $fmt" "$work/bigins" 20 300 check --format "$fmt"
done
exit $failed
