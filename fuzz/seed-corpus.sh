#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the test logs (the corpus itself is not committed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
logs="$here/../testdata/corpus/logs"
mkdir -p "$here/corpus/parse_bytes" "$here/corpus/chunking"
for f in "$logs"/*.log; do
    name=$(basename "$f" .log)
    cp "$f" "$here/corpus/parse_bytes/$name"
    # chunking's first bytes are a header (see fuzz_targets/chunking.rs):
    # no split; 3 split points; 1-byte chunks; 7-byte chunks with a 16-byte line cap.
    { printf '\000'; cat "$f"; } > "$here/corpus/chunking/$name-whole"
    { printf '\003\020\000\000\001\377\377'; cat "$f"; } > "$here/corpus/chunking/$name-split3"
    { printf '\014\000'; cat "$f"; } > "$here/corpus/chunking/$name-bytewise"
    { printf '\174\006'; cat "$f"; } > "$here/corpus/chunking/$name-7s-cap16"
    # every line an event with an explicit `@<ms> ` timestamp, one second apart.
    { printf '\000'; awk '{ printf "@%.0f %s\n", 1700000000000 + NR * 1000, $0 }' "$f"; } \
        > "$here/corpus/chunking/$name-events"
done
echo "seeded $(ls "$here/corpus/parse_bytes" | wc -l) + $(ls "$here/corpus/chunking" | wc -l) inputs"
