#!/usr/bin/env bash
# The C ABI tests: builds the static library, compiles every ffi/tests/c/*.c and the example
# ffi/examples/ehr.c against ffi/include/zorg_pdp.h with strict warnings, runs them under
# AddressSanitizer + UndefinedBehaviorSanitizer, then rebuilds them without sanitizers and runs
# them under valgrind (installed with apt-get when missing). Also checks that the header
# compiles as C++. Exit status 0 only when everything passed.
#
# Environment: CC (default cc), CXX (default c++), CARGO_TARGET_DIR (as cargo).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ffi="$(dirname "$here")"
root="$(dirname "$ffi")"
cd "$root"

CC="${CC:-cc}"
CXX="${CXX:-c++}"

echo "== building the static library (cargo build -p zorg-pdp-ffi)"
cargo build -p zorg-pdp-ffi
target_dir="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
lib="$target_dir/debug/libzorg_pdp_ffi.a"
[[ -f "$lib" ]] || { echo "missing $lib" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

warnings=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
includes=(-I"$ffi/include" -I"$here/c")
# The Rust standard library needs these from the system (cargo rustc -- --print native-static-libs)
libs=(-lpthread -ldl -lm)

tests=("$here"/c/*.c)
example="$ffi/examples/ehr.c"

# Arguments per program: the happy-path test also loads the policy folder
args_for() {
    case "$(basename "$1" .c)" in
        test_happy) echo "$root/policies" ;;
        *) ;;
    esac
}

build() { # build MODE SOURCE -> prints the binary's path
    local mode="$1" src="$2" bin flags=()
    bin="$out/$mode-$(basename "$src" .c)"
    if [[ "$mode" == asan ]]; then
        flags=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
    else
        flags=(-g -O1)
    fi
    "$CC" "${warnings[@]}" "${flags[@]}" "${includes[@]}" "$src" "$lib" "${libs[@]}" -o "$bin"
    echo "$bin"
}

failed=0
run() { # run LABEL COMMAND...
    local label="$1"
    shift
    if "$@"; then
        echo "ok: $label"
    else
        echo "FAILED: $label" >&2
        failed=$((failed + 1))
    fi
}

echo "== the header compiles as C++ too"
if command -v "$CXX" >/dev/null; then
    printf '#include "zorg_pdp.h"\nint main() { return zpdp_version() ? 0 : 1; }\n' >"$out/header.cpp"
    "$CXX" -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$ffi/include" -fsyntax-only "$out/header.cpp"
    echo "ok: zorg_pdp.h as C++11"
else
    echo "skipped: no C++ compiler ($CXX)"
fi

# A program that leaks one response string (the checkers must fail it)
cat >"$out/leak_canary.c" <<'C'
#include "zorg_pdp.h"
int main(void) {
    zpdp_engine *engine = NULL;
    char *response = NULL;
    if (zpdp_engine_new_shipped(&engine, NULL) != ZPDP_STATUS_OK) return 0;
    zpdp_engine_decide(engine, "{\"principal\":{\"patient\":\"p\"},\"action\":\"view_own\","
                       "\"patient\":\"p\",\"at\":\"2026-01-01T00:00:00Z\"}", &response, NULL);
    response = NULL; /* the leak */
    zpdp_engine_free(engine);
    return 0;
}
C

echo "== ASan + UBSan"
# detect_leaks: LeakSanitizer reports memory that is unreachable at exit; the Rust standard
# library's statics stay reachable, so no suppressions are needed.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for src in "${tests[@]}" "$example"; do
    bin="$(build asan "$src")"
    # The sanitizers really are linked in
    if ! nm "$bin" >"$out/symbols" || ! grep -q '__asan_init' "$out/symbols"; then
        echo "FAILED: $bin has no AddressSanitizer runtime" >&2
        failed=$((failed + 1))
    fi
    # shellcheck disable=SC2046
    run "asan $(basename "$src")" "$bin" $(args_for "$src")
    rm -f "$bin" # each links the whole engine; keep the disk footprint to one at a time
done
# A canary: the leak checker must catch a string the C side forgets to free
bin="$(build asan "$out/leak_canary.c")"
if "$bin" 2>"$out/canary.log"; then
    echo "FAILED: LeakSanitizer missed a leaked response string" >&2
    failed=$((failed + 1))
else
    echo "ok: LeakSanitizer catches a leaked response string"
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== valgrind"
if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: installing it with apt-get"
    (apt-get update && apt-get install -y valgrind) >/dev/null
fi
# valgrind.supp: Rust's process-lifetime statics, reachable only through hashbrown's interior
# pointers, show as "possibly lost"; only those are suppressed (see the file).
vg=(valgrind --quiet --leak-check=full --error-exitcode=1 --num-callers=60
    --suppressions="$here/valgrind.supp")
for src in "${tests[@]}" "$example"; do
    bin="$(build plain "$src")"
    # shellcheck disable=SC2046
    run "valgrind $(basename "$src")" "${vg[@]}" "$bin" $(args_for "$src")
    rm -f "$bin"
done
bin="$(build plain "$out/leak_canary.c")"
if "${vg[@]}" "$bin" 2>"$out/canary.log"; then
    echo "FAILED: valgrind missed a leaked response string" >&2
    failed=$((failed + 1))
else
    echo "ok: valgrind catches a leaked response string"
fi

if [[ $failed -ne 0 ]]; then
    echo "C ABI tests: $failed failed" >&2
    exit 1
fi
echo "C ABI tests: all passed"
