#!/usr/bin/env bash
# The C ABI tests. Exit status 0 only when everything passed.
#
# 1. Builds the static library (debug), compiles every ffi/tests/c/*.c and the example
#    ffi/examples/ehr.c against ffi/include/zorg_pdp.h with strict warnings, and runs them under
#    AddressSanitizer + UndefinedBehaviorSanitizer, then without sanitizers under valgrind
#    (installed with apt-get when missing). Also checks that the header compiles as C++.
# 2. Runs the recipes of docs/c-abi.md exactly as written there (the shell blocks marked
#    `<!-- recipe: NAME -->`), with the example as the vendor's `app.c`: the release build,
#    static and dynamic linking (the program must find the shared library by its SONAME), and
#    the vendor's valgrind run on the release-linked program with the shipped suppressions.
#    The release build is the one slow step (a few minutes on 2 cores); it runs once.
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
version="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"name":"zorg-pdp-ffi","version":"\([^"]*\)".*/\1/p')"
[[ -n "$version" ]] || { echo "cannot read the version of zorg-pdp-ffi" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

warnings=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
includes=(-I"$ffi/include" -I"$here/c")
# The Rust standard library needs these from the system (cargo rustc -- --print native-static-libs)
libs=(-lpthread -ldl -lm)

tests=("$here"/c/*.c)
example="$ffi/examples/ehr.c"

# Arguments per program: these also load (or reload) the policy folder
args_for() {
    case "$(basename "$1" .c)" in
        test_happy | test_threads) echo "$root/policies" ;;
        *) ;;
    esac
}

build() { # build MODE SOURCE [LIBRARY] -> prints the binary's path
    local mode="$1" src="$2" library="${3:-$lib}" bin flags=()
    bin="$out/$mode-$(basename "$src" .c)"
    if [[ "$mode" == asan ]]; then
        flags=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
    else
        flags=(-g -O1)
    fi
    "$CC" "${warnings[@]}" "${flags[@]}" "${includes[@]}" "$src" "$library" "${libs[@]}" -o "$bin"
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
                       "\"patient\":\"p\",\"at\":\"2026-01-01T00:00:00Z\"}", NULL, &response, NULL);
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
rm -f "$bin"
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== valgrind (debug build)"
if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: installing it with apt-get"
    (apt-get update && apt-get install -y valgrind) >/dev/null
fi
# valgrind.supp: Rust's process-lifetime statics and thread-locals, reachable only through
# interior pointers, show as "possibly lost"; only those are suppressed (see the file). The
# options are the ones docs/c-abi.md gives vendors: "possibly lost" fails the run too.
vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,possible
    --error-exitcode=1 --num-callers=60 --suppressions="$here/valgrind.supp")
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
rm -f "$bin"

# The shell block after `<!-- recipe: NAME -->` in docs/c-abi.md
recipe() {
    awk -v marker="<!-- recipe: $1 -->" '
        $0 == marker { found = 1; next }
        found && /^```sh$/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$root/docs/c-abi.md"
}

# Runs a recipe in a fresh folder holding the example as app.c (or in DIR, where an earlier
# recipe ran), with ZPDP the checkout
run_recipe() { # run_recipe NAME [DIR]
    local name="$1" dir="${2:-}" text
    text="$(recipe "$name")"
    if [[ -z "$text" ]]; then
        echo "FAILED: docs/c-abi.md has no recipe \`$name\`" >&2
        failed=$((failed + 1))
        return
    fi
    # The recipes assume cargo's default target folder; follow CARGO_TARGET_DIR if set
    text="${text//\$ZPDP\/target/$target_dir}"
    if [[ -z "$dir" ]]; then
        dir="$out/recipe-$name"
        mkdir -p "$dir"
        cp "$example" "$dir/app.c"
    fi
    echo "-- recipe $name:"
    printf '%s\n' "$text" | sed 's/^/   /'
    if (cd "$dir" && ZPDP="$root" bash -euo pipefail -c "$text"); then
        echo "ok: recipe $name"
    else
        echo "FAILED: recipe $name (docs/c-abi.md)" >&2
        failed=$((failed + 1))
    fi
}

echo "== the README's C example, as written there"
readme_c="$out/readme.c"
awk '/^```c$/ {on = 1; next} on && /^```$/ {exit} on {print}' "$root/README.md" >"$readme_c"
if [[ ! -s "$readme_c" ]]; then
    echo "FAILED: README.md has no C example" >&2
    failed=$((failed + 1))
else
    readme_bin="$(build asan "$readme_c")"
    if [[ "$("$readme_bin")" == "deny" ]]; then
        echo "ok: the README's C example prints deny"
    else
        echo "FAILED: the README's C example" >&2
        failed=$((failed + 1))
    fi
    rm -f "$readme_bin"
fi

echo "== the recipes of docs/c-abi.md, on the release build"
run_recipe build
release_so="$target_dir/release/libzorg_pdp_ffi.so"
soname="$(readelf -d "$release_so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
if [[ "$soname" == "libzorg_pdp_ffi.so.$version" ]]; then
    echo "ok: the shared library's SONAME is $soname"
else
    echo "FAILED: the shared library's SONAME is '$soname', not libzorg_pdp_ffi.so.$version" >&2
    failed=$((failed + 1))
fi

run_recipe static
run_recipe dynamic
# The dynamic program really uses the shared library, found through its rpath
dyn="$out/recipe-dynamic/app"
if [[ -x "$dyn" ]] && ldd "$dyn" | grep -q "libzorg_pdp_ffi.so.$version => $out/recipe-dynamic/"; then
    echo "ok: the dynamic program loads libzorg_pdp_ffi.so.$version from beside it"
else
    echo "FAILED: the dynamic program does not load the shared library it was linked with" >&2
    ldd "$dyn" >&2 || true
    failed=$((failed + 1))
fi
if ! readelf -d "$dyn" | grep -q "NEEDED.*\[libzorg_pdp_ffi.so.$version\]"; then
    echo "FAILED: the dynamic program does not name libzorg_pdp_ffi.so.$version" >&2
    failed=$((failed + 1))
fi

# The vendor's own valgrind run on the release-linked program (static, as the recipe builds it)
run_recipe valgrind "$out/recipe-static"
run "valgrind release dynamic app" "${vg[@]}" "$dyn"

echo "== valgrind (release build: every C test, and the leak canary)"
release_lib="$target_dir/release/libzorg_pdp_ffi.a"
for src in "${tests[@]}"; do
    bin="$(build release "$src" "$release_lib")"
    # shellcheck disable=SC2046
    run "valgrind release $(basename "$src")" "${vg[@]}" "$bin" $(args_for "$src")
    rm -f "$bin"
done
# The suppressions must not hide a real leak in the release build either
bin="$(build release "$out/leak_canary.c" "$release_lib")"
if "${vg[@]}" "$bin" 2>"$out/canary.log"; then
    echo "FAILED: valgrind missed a leaked response string in the release build" >&2
    failed=$((failed + 1))
else
    echo "ok: valgrind catches a leaked response string in the release build"
fi
rm -f "$bin"

if [[ $failed -ne 0 ]]; then
    echo "C ABI tests: $failed failed" >&2
    exit 1
fi
echo "C ABI tests: all passed"
