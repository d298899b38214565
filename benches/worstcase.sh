#!/usr/bin/env bash
# Adversarial inputs, each at size n and 2n (or 4n): time and peak RSS of `cachescope build`,
# so linear work shows as a time ratio near the size ratio and bounded memory as a flat RSS.
#   - a cache-bust step `COPY <k stars>! /app/` (the source is matched against dependency
#     manifests as a wildcard pattern: k = 40 and 4000);
#   - `--progress=rawjson` with n distinct vertex digests (n = 100k and 200k);
#   - a CloudWatch Logs JSON export whose single message is S bytes (S = 256 MiB and 1 GiB).
# Needs GNU time (Debian: time). Writes the inputs to a temporary folder (≈ 1.6 GB).
# With BASELINE_BIN=<an older cachescope>, each input is also timed with it, in the same run.
#
#   benches/worstcase.sh
#   BASELINE_BIN=/tmp/cachescope-main benches/worstcase.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin cachescope
bin=target/release/cachescope

# Runs `$2 build` (default: this tree's binary) on $1 read from stdin (a file would be
# memory-mapped, and its pages count in RSS); prints "seconds peak_rss_kib".
measure() {
  # (a baseline that hangs is stopped after 2 minutes)
  /usr/bin/time -f "%e %M" -o "$work/time" timeout 120 "${2:-$bin}" build - --format json \
    < "$1" > /dev/null 2> "$work/err" || echo "failed or stopped on $1: $(tail -1 "$work/err")" >&2
  tail -1 "$work/time"
}

# report NAME SIZE_SMALL SIZE_LARGE FILE_SMALL FILE_LARGE
report() {
  read -r t1 m1 < <(measure "$4")
  read -r t2 m2 < <(measure "$5")
  python3 - "$1" "$2" "$3" "$t1" "$m1" "$t2" "$m2" <<'PY'
import sys
name, s1, s2, t1, m1, t2, m2 = sys.argv[1:]
t1, t2, m1, m2 = float(t1), float(t2), int(m1), int(m2)
ratio = float(s2) / float(s1)
print(f"{name}: {s1} → {s2} (×{ratio:g}): {t1:.2f}s → {t2:.2f}s (×{t2 / max(t1, 0.01):.2f}), "
      f"peak RSS {m1 / 1024:.0f} → {m2 / 1024:.0f} MiB")
PY
  if [ -n "${BASELINE_BIN:-}" ]; then
    read -r b1 n1 < <(measure "$4" "$BASELINE_BIN" | tail -1)
    read -r b2 n2 < <(measure "$5" "$BASELINE_BIN" | tail -1)
    echo "  baseline $BASELINE_BIN: ${b1}s, ${n1} KiB → ${b2}s, ${n2} KiB"
  fi
}

copy_log() {
  stars=$(printf '%*s' "$1" '' | tr ' ' '*')
  cat <<LOG
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [1/3] FROM docker.io/library/python:3.11
#2 CACHED
#3 [2/3] COPY ${stars}! /app/
#3 DONE 1.0s
#4 [3/3] RUN pip install -r requirements.txt
#4 DONE 30.0s
LOG
}
copy_log 40 > "$work/copy-40.log"
copy_log 4000 > "$work/copy-4000.log"
report "COPY wildcard stars" 40 4000 "$work/copy-40.log" "$work/copy-4000.log"

rawjson() {
  python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    d = f"sha256:{i:064x}"
    out.write('{"vertexes":[{"digest":"%s","name":"[%d/%d] RUN step %d","started":"2025-03-20T22:53:16.1+01:00"}]}\n' % (d, i % 9 + 1, 9, i))
    out.write('{"vertexes":[{"digest":"%s","name":"[%d/%d] RUN step %d","started":"2025-03-20T22:53:16.1+01:00","completed":"2025-03-20T22:53:17.3+01:00"}]}\n' % (d, i % 9 + 1, 9, i))
PY
}
rawjson 100000 > "$work/raw-100k.log"
rawjson 200000 > "$work/raw-200k.log"
report "rawjson distinct digests" 100000 200000 "$work/raw-100k.log" "$work/raw-200k.log"

one_message() {
  python3 - "$1" <<'PY'
import sys
size = int(sys.argv[1])
out = sys.stdout.buffer
out.write(b'{"events": [{"timestamp": 1700000000000, "message": "#5 ')
chunk = b"y" * (1 << 20)
for _ in range(size >> 20):
    out.write(chunk)
out.write(b'"}, {"timestamp": 1700000001000, "message": "#5 DONE 1.0s"}]}\n')
PY
}
one_message $((256 << 20)) > "$work/one-256m.json"
one_message $((1 << 30)) > "$work/one-1g.json"
report "one-message JSON (MiB)" 256 1024 "$work/one-256m.json" "$work/one-1g.json"
