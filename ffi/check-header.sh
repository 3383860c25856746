#!/usr/bin/env bash
# Checks that the committed C header ffi/include/zorg_pdp.h is what cbindgen makes from the
# zorg-pdp-ffi crate: regenerates it into a temporary file and diffs. Exit 1 on drift.
#
#   bash ffi/check-header.sh           # check (CI)
#   bash ffi/check-header.sh --update  # rewrite the committed header
#
# cbindgen is pinned (output differs between point releases); the pinned version is installed
# with `cargo install --locked` when it is missing or another version is on the PATH.
set -euo pipefail

CBINDGEN_VERSION="0.29.4"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
header="$here/include/zorg_pdp.h"
cd "$root"

cbindgen="cbindgen"
if ! command -v cbindgen >/dev/null || [[ "$(cbindgen --version)" != "cbindgen $CBINDGEN_VERSION" ]]; then
    tools="${CARGO_HOME:-$HOME/.cargo}/cbindgen-$CBINDGEN_VERSION"
    cbindgen="$tools/bin/cbindgen"
    if [[ ! -x "$cbindgen" ]]; then
        echo "installing cbindgen $CBINDGEN_VERSION into $tools"
        cargo install --quiet --locked --version "$CBINDGEN_VERSION" --root "$tools" cbindgen
    fi
fi
[[ "$("$cbindgen" --version)" == "cbindgen $CBINDGEN_VERSION" ]] || {
    echo "need cbindgen $CBINDGEN_VERSION, have $("$cbindgen" --version)" >&2
    exit 1
}

fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
# cbindgen warns about every private const it skips; only real errors matter
"$cbindgen" --quiet --config "$here/cbindgen.toml" --crate zorg-pdp-ffi --output "$fresh" "$here"

if [[ "${1:-}" == "--update" ]]; then
    cp "$fresh" "$header"
    echo "wrote $header"
    exit 0
fi

if ! diff -u "$header" "$fresh"; then
    echo "ffi/include/zorg_pdp.h is out of date: run \`bash ffi/check-header.sh --update\` and commit it" >&2
    exit 1
fi
echo "ffi/include/zorg_pdp.h is up to date (cbindgen $CBINDGEN_VERSION)"
