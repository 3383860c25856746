#!/usr/bin/env python3
"""Validates FHIR R4 (4.0.1) Bundles with an independent implementation: the
PyPI package fhir.resources 6.2.x (pydantic models generated from the R4
StructureDefinitions: element names, types, cardinalities, required
elements, no unknown elements), plus the R4 invariants those models do not
check, written here from the R4 specification: bdl-3 (no request in a
collection), bdl-7 (fullUrl unique), every reference resolves to an entry of
the right resource type, ppc-1 (a Consent has a policy or a policyRule),
ppc-2 (a patient-privacy Consent has a patient), org-1 (an Organization has
an identifier or a name).

Input: one Bundle per line (JSON Lines) on stdin. Output: one line per
bundle, `ok N` or `invalid N: reason`; exit status 0 when every bundle is
valid, 1 otherwise, 2 when the validator itself is not usable.
"""
import json
import sys

try:
    import fhir.resources
    from fhir.resources.bundle import Bundle
except ImportError as e:  # pragma: no cover
    print(f"fhir.resources is not installed: {e}", file=sys.stderr)
    sys.exit(2)

if getattr(fhir.resources, "__fhir_version__", None) != "4.0.1":
    print(
        f"fhir.resources models FHIR {getattr(fhir.resources, '__fhir_version__', '?')}, not R4 4.0.1",
        file=sys.stderr,
    )
    sys.exit(2)


def invariants(bundle):
    """Problems with the R4 invariants the models do not check"""
    problems = []
    entries = bundle.get("entry", [])
    urls = {}
    for i, e in enumerate(entries):
        url = e.get("fullUrl")
        if url is not None:
            if url in urls:
                problems.append(f"bdl-7: entry[{i}].fullUrl repeats entry[{urls[url]}]")
            urls[url] = i
        if bundle.get("type") == "collection" and "request" in e:
            problems.append(f"bdl-3: entry[{i}].request in a collection")
    def target(ref, expected, where):
        i = urls.get(ref)
        if i is None:
            problems.append(f"{where}: reference {ref!r} resolves to no entry")
        elif entries[i].get("resource", {}).get("resourceType") != expected:
            problems.append(f"{where}: reference {ref!r} is not a {expected}")
    for i, e in enumerate(entries):
        r = e.get("resource", {})
        where = f"entry[{i}].resource"
        if r.get("resourceType") == "Consent":
            if not r.get("policy") and not r.get("policyRule"):
                problems.append(f"ppc-1: {where} has neither policy nor policyRule")
            privacy = any(
                c.get("code") == "patient-privacy"
                for c in r.get("scope", {}).get("coding", [])
            )
            if privacy and "patient" not in r:
                problems.append(f"ppc-2: {where} is patient-privacy without a patient")
            if "patient" in r:
                target(r["patient"].get("reference"), "Patient", f"{where}.patient")
            for j, a in enumerate(r.get("provision", {}).get("actor", [])):
                target(
                    a.get("reference", {}).get("reference"),
                    "Organization",
                    f"{where}.provision.actor[{j}]",
                )
        if r.get("resourceType") == "Organization":
            if not r.get("identifier") and not r.get("name"):
                problems.append(f"org-1: {where} has neither identifier nor name")
    return problems


def main():
    failed = 0
    for n, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            Bundle.parse_obj(data)
            problems = invariants(data)
        except Exception as e:  # the models' validation error
            problems = [str(e).replace("\n", " | ")]
        if problems:
            failed += 1
            print(f"invalid {n}: {'; '.join(problems)}")
        else:
            print(f"ok {n}")
    sys.exit(1 if failed else 0)


main()
