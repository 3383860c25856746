#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds (default 60) with cargo-fuzz.
# With this stable toolchain cargo-fuzz needs RUSTC_BOOTSTRAP=1.
# A crash is minimised into fuzz/regressions/<target>/ and the script fails;
# `cargo test` replays fuzz/regressions on stable (tests/it/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# Every target in fuzz_targets/ (tests/it/fuzz_regressions.rs checks its table against it too)
targets=()
for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "regressions/$t"
  # Seed the corpus with the replayed regressions and, for scenarios, the policy tests.
  cp -n regressions/"$t"/* "corpus/$t/" 2>/dev/null || true
  case "$t" in
    scenario_toml) cp -n ../policies/tests/*.toml "corpus/$t/" 2>/dev/null || true ;;
    policy_text) cp -n ../policies/*.cedar "corpus/$t/" 2>/dev/null || true ;;
  esac
  echo "== $t for ${secs}s"
  if ! cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 2>&1 | tail -n 5; then
    failed+=("$t")
    for crash in artifacts/"$t"/crash-* artifacts/"$t"/timeout-* artifacts/"$t"/oom-*; do
      [ -e "$crash" ] || continue
      min="regressions/$t/$(basename "$crash")"
      cargo fuzz tmin "$t" "$crash" -- -exact_artifact_path="$min" >/dev/null 2>&1 || cp "$crash" "$min"
      echo "   minimised crasher: fuzz/$min"
    done
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
echo "every target ran ${secs}s clean"
