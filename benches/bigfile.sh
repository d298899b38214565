#!/usr/bin/env bash
# Times `cachescope steps` on large synthetic CodeBuild + BuildKit logs against the
# `rg -c` one-liner people use today, in the same run, and measures peak RSS reading each log
# from stdin. Two shapes: output-heavy (few steps, long RUN output: the parser's fast path) and
# step-dense (many builds, a few output lines per step: state changes on nearly every line).
# Needs ripgrep, hyperfine and GNU time (Debian: ripgrep hyperfine time).
#
#   benches/bigfile.sh [SIZE_MB]      default 256
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-256}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin cachescope --example genlog
bin=target/release/cachescope

for shape in output dense; do
  big="$work/$shape.log"
  if [ "$shape" = dense ]; then
    target/release/examples/genlog "$size" 42 dense > "$big"
  else
    target/release/examples/genlog "$size" 42 > "$big"
  fi
  bytes=$(stat -c %s "$big")
  echo "== $shape log: $bytes bytes, $(wc -l < "$big") lines, $($bin steps "$big" --format jsonl | wc -l) steps"

  hyperfine --warmup 2 --runs 10 --export-json "$work/$shape.json" \
    -n "rg -c '^#[0-9]+ (CACHED|DONE)'" "rg -c '^#[0-9]+ (CACHED|DONE)' $big" \
    -n "cachescope steps --format jsonl" "$bin steps $big --format jsonl > /dev/null" \
    -n "cachescope build --format json" "$bin build $big --format json > /dev/null"

  python3 - "$work/$shape.json" "$bytes" "$shape" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
rg, cs, cb = (x["median"] for x in r)
mb = int(sys.argv[2]) / 1e6
print(f"{sys.argv[3]}: median rg {rg:.3f}s ({mb/rg:.0f} MB/s), steps {cs:.3f}s ({mb/cs:.0f} MB/s), build {cb:.3f}s")
print(f"{sys.argv[3]}: ratio steps/rg = {cs/rg:.2f} (target <= 0.5); build/steps = {cb/cs:.2f} (target <= 1.3)")
PY

  /usr/bin/time -f "$shape steps: peak RSS reading from stdin: %M KiB" "$bin" steps - --format jsonl < "$big" > /dev/null
  /usr/bin/time -f "$shape build: peak RSS reading from stdin: %M KiB" "$bin" build - --format json < "$big" > /dev/null
done
