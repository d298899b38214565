#!/usr/bin/env bash
# Times this checkout's parser against an earlier commit's, in one run: `cachescope steps` of
# both release binaries on a large generated BuildKit log and on a large legacy-builder log (the
# corpus's legacy logs repeated: plain-text lines, which the evidence scan reads), then `build`
# against `steps` of this checkout. Prints medians and ratios. Needs hyperfine (Debian: hyperfine).
#
#   benches/against.sh REV [SIZE_MB]      e.g. benches/against.sh 933d421 256
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: benches/against.sh REV [SIZE_MB]}"
size="${2:-256}"
work="$(mktemp -d)"
tree="$work/old-tree"
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# One target dir for both binaries, each built alone (an example would add the dev-dependencies'
# features and rebuild the dependencies): the dependencies are built once for both.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet --example genlog
cp "$CARGO_TARGET_DIR/release/examples/genlog" "$work/genlog"
git worktree add --quiet --detach "$tree" "$rev"
(cd "$tree" && cargo build --release --quiet --bin cachescope)
cp "$CARGO_TARGET_DIR/release/cachescope" "$work/old"
cargo build --release --quiet --bin cachescope
cp "$CARGO_TARGET_DIR/release/cachescope" "$work/new"

"$work/genlog" "$size" > "$work/buildkit.log"
: > "$work/legacy.log"
while [ "$(stat -c %s "$work/legacy.log")" -lt $((size / 4 * 1024 * 1024)) ]; do
    cat testdata/corpus/logs/02[27]-*.log testdata/corpus/logs/031-*.log >> "$work/legacy.log"
done
for log in buildkit legacy; do
    echo "$log.log: $(stat -c %s "$work/$log.log") bytes"
done

hyperfine --warmup 1 --runs 7 --export-json "$work/t.json" \
  -n "old steps buildkit" "$work/old steps $work/buildkit.log --format jsonl > /dev/null" \
  -n "new steps buildkit" "$work/new steps $work/buildkit.log --format jsonl > /dev/null" \
  -n "new build buildkit" "$work/new build $work/buildkit.log --format json > /dev/null" \
  -n "old steps legacy" "$work/old steps $work/legacy.log --format jsonl > /dev/null" \
  -n "new steps legacy" "$work/new steps $work/legacy.log --format jsonl > /dev/null"

python3 - "$work/t.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print(f"{k:22s} {v:.3f}s")
print(f"steps new/old, BuildKit log: {r['new steps buildkit'] / r['old steps buildkit']:.3f} (target <= 1.10)")
print(f"steps new/old, legacy log:   {r['new steps legacy'] / r['old steps legacy']:.3f} (target <= 1.10)")
print(f"build/steps, BuildKit log:   {r['new build buildkit'] / r['new steps buildkit']:.3f} (target <= 1.3)")
PY
