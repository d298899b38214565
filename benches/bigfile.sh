#!/usr/bin/env bash
# Times `cachescope steps` on a large synthetic CodeBuild + BuildKit log against the
# `rg -c` one-liner people use today, in the same run, and measures peak RSS reading the log
# from stdin. Needs ripgrep, hyperfine and GNU time (Debian: ripgrep hyperfine time).
#
#   benches/bigfile.sh [SIZE_MB]      default 256
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-256}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin cachescope --example genlog
bin=target/release/cachescope
big="$work/big.log"
target/release/examples/genlog "$size" > "$big"
bytes=$(stat -c %s "$big")
echo "log: $big, $bytes bytes, $(wc -l < "$big") lines"

hyperfine --warmup 2 --runs 10 --export-json "$work/times.json" \
  -n "rg -c '^#[0-9]+ (CACHED|DONE)'" "rg -c '^#[0-9]+ (CACHED|DONE)' $big" \
  -n "cachescope steps --format jsonl" "$bin steps $big --format jsonl > /dev/null" \
  -n "cachescope build --format json" "$bin build $big --format json > /dev/null"

python3 - "$work/times.json" "$bytes" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
rg, cs, cb = (x["median"] for x in r)
mb = int(sys.argv[2]) / 1e6
print(f"median: rg {rg:.3f}s ({mb/rg:.0f} MB/s), steps {cs:.3f}s ({mb/cs:.0f} MB/s), build {cb:.3f}s")
print(f"ratio steps/rg = {cs/rg:.2f} (target <= 0.5); build/steps = {cb/cs:.2f} (target <= 1.3)")
PY

/usr/bin/time -f "steps: peak RSS reading from stdin: %M KiB" "$bin" steps - --format jsonl < "$big" > /dev/null
/usr/bin/time -f "build: peak RSS reading from stdin: %M KiB" "$bin" build - --format json < "$big" > /dev/null
