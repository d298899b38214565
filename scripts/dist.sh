#!/usr/bin/env bash
# Builds the release archives: cachescope-<version>-<arch>-linux.tar.gz (the binary, README,
# licence) and a .sha256 file each, in dist/. The binary links against glibc 2.17 symbols at
# most (cargo-zigbuild with zig as the linker), so it runs on every CodeBuild Linux image,
# Amazon Linux 2 (glibc 2.26) and Ubuntu 20.04 (2.31) included.
#
#   pip install ziglang cargo-zigbuild      # once
#   scripts/dist.sh                         # x86_64 (the targets installed here)
#   scripts/dist.sh aarch64                 # needs `rustup target add aarch64-unknown-linux-gnu`
#
# The release workflow (.github/workflows/release.yml) runs this script, one arch per job.
set -euo pipefail
cd "$(dirname "$0")/.."

# The archs this script builds, and the glibc their binaries may need at most.
TARGETS="x86_64 aarch64"
GLIBC=2.17

archs="${*:-x86_64}"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
# The commit `cachescope --version` names (build.rs reads it).
CACHESCOPE_COMMIT=$(git describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo unknown)
export CACHESCOPE_COMMIT
mkdir -p dist

for arch in $archs; do
  case " $TARGETS " in *" $arch "*) ;; *) echo "unknown arch $arch (one of: $TARGETS)" >&2; exit 2 ;; esac
  target="$arch-unknown-linux-gnu"
  cargo zigbuild --release --locked --target "$target.$GLIBC" --bin cachescope
  bin="target/$target/release/cachescope"

  # No symbol from a glibc newer than $GLIBC.
  newest=$( (objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' ; echo 0) | sort -V | tail -1)
  if [ "$(printf '%s\n%s\n' "$newest" "$GLIBC" | sort -V | tail -1)" != "$GLIBC" ]; then
    echo "$bin needs GLIBC_$newest, more than $GLIBC" >&2
    exit 1
  fi

  # The binary starts and analyzes a log, where it can run here.
  if [ "$arch" = "$(uname -m)" ]; then
    "$bin" --version
    "$bin" build testdata/corpus/logs/020-codebuild-buildkit-pip-no-cache.log --format json > /dev/null
  fi

  name="cachescope-$version-$arch-linux"
  stage="$(mktemp -d)/$name"
  mkdir -p "$stage"
  cp "$bin" README.md "$stage/"
  [ -f LICENSE ] && cp LICENSE "$stage/"
  # Reproducible: fixed order, owner and times (the commit's time).
  when=$(git log -1 --format=%ct 2>/dev/null || echo 0)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$when" \
      -C "$(dirname "$stage")" -cf - "$name" | gzip -n -9 > "dist/$name.tar.gz"
  (cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
  echo "dist/$name.tar.gz: $(stat -c %s "dist/$name.tar.gz") bytes; binary $(stat -c %s "$bin") bytes, newest glibc symbol $newest"
done
