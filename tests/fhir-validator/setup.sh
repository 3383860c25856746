#!/usr/bin/env bash
# Installs the independent FHIR R4 validator of tests/it/fhir.rs into a venv
# under the cargo target folder (idempotent: nothing happens when it is there
# already) and prints the interpreter's path. PyPI only, pinned versions:
# fhir.resources 6.2.2 is the last release whose default models are FHIR R4
# 4.0.1 (6.4 and later model R4B 4.3, 7 and later R5); it needs pydantic 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${CARGO_TARGET_DIR:-$here/../../target}"
venv="$target/fhir-validator"
python="$venv/bin/python"
if [ -x "$python" ] && "$python" -c 'import fhir.resources, sys; sys.exit(fhir.resources.__fhir_version__ != "4.0.1")' 2>/dev/null; then
    echo "$python"
    exit 0
fi
rm -rf "$venv"
if ! python3 -m venv "$venv" >&2; then
    echo "python3 -m venv failed: installing python3-venv with apt-get" >&2
    (apt-get update && apt-get install -y python3-venv) >&2
    python3 -m venv "$venv" >&2
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "fhir.resources==6.2.2" "pydantic==1.10.22" "email-validator==2.4.0" >&2
"$python" -c 'import fhir.resources, sys; sys.exit(fhir.resources.__fhir_version__ != "4.0.1")'
echo "$python"
