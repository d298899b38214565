#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the test logs (the corpus itself is not committed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../testdata"
mkdir -p "$here/corpus/parse_bytes" "$here/corpus/chunking" "$here/corpus/analysis"
prev=""
for f in "$data"/corpus/logs/*.log "$data"/wild/logs/* "$data"/formats/logs/* \
    "$data"/diagnosis/logs/*; do
    name=$(basename "$f")
    name=${name%.log}
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
    # analysis: each log alone, and after the previous one as its baseline and earlier build
    # (logs are separated by "\n\0\n", see fuzz_targets/analysis.rs).
    cp "$f" "$here/corpus/analysis/$name"
    if [ -n "$prev" ]; then
        { cat "$f"; printf '\n\000\n'; cat "$prev"; } > "$here/corpus/analysis/$name-with-earlier"
    fi
    prev=$f
done
echo "seeded $(ls "$here/corpus/parse_bytes" | wc -l) + $(ls "$here/corpus/chunking" | wc -l)" \
    "+ $(ls "$here/corpus/analysis" | wc -l) inputs"
