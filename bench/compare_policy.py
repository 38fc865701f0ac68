#!/usr/bin/env python3
"""Compare checkov (--framework kubernetes) with gitops-guard's policy findings.

    compare_policy.py CHECKOV_JSON GITOPS_GUARD_JSON SCAN_ROOT DISAGREEMENTS_TSV

Both tools scanned SCAN_ROOT. checkov reports a verdict per (resource, check); gitops-guard
reports findings at a path and line. Each gitops-guard finding is placed in the checkov
resource whose line range in the same file contains its line; then, for every gitops-guard
check that has a checkov counterpart (MAP below), each resource checkov evaluated gets one
of: both flag it / only gitops-guard / only checkov / neither. Prints Markdown tables and
writes every disagreement to DISAGREEMENTS_TSV for review. Secrets are never printed.
"""

import json
import os
import sys
from collections import Counter, defaultdict

# gitops-guard check id -> checkov check ids that test the same thing (names from checkov 3.3).
MAP = {
    "run-as-non-root": ["CKV_K8S_23"],            # Minimize the admission of root containers
    "drop-all-capabilities": ["CKV_K8S_37"],      # ... containers with capabilities assigned
    "no-privilege-escalation": ["CKV_K8S_20"],    # allowPrivilegeEscalation
    "read-only-root-filesystem": ["CKV_K8S_22"],  # read-only filesystem
    "resource-requests-limits": ["CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
    "no-privileged": ["CKV_K8S_16"],              # Container should not be privileged
    "no-host-namespaces": ["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"],  # hostPID/IPC/Network
    "no-host-path": ["CKV_K8S_27"],               # docker socket only: checkov's is narrower
    "no-service-account-token": ["CKV_K8S_38"],   # SA tokens only mounted where necessary
    "seccomp-profile": ["CKV_K8S_31"],            # seccomp docker/default or runtime/default
    "image-tag-pinned": ["CKV_K8S_14"],           # Image Tag should be fixed - not latest or blank
    "image-digest-pinned": ["CKV_K8S_43"],        # Image should use digest
    "network-policy-coverage": ["CKV2_K8S_6"],    # pods which lack an associated NetworkPolicy
    "secret-env-var": ["CKV_K8S_35"],             # secrets as files over env vars
}


def fail(msg):
    print(f"compare_policy.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"cannot read {path}: {e}")


def norm_path(p, root):
    p = p.replace("\\", "/")
    if os.path.isabs(p) and p.startswith(root.rstrip("/") + "/"):
        return os.path.relpath(p, root)
    return p.lstrip("/").removeprefix("./")


def gg_check_id(rule):
    """Map a gitops-guard rule id (maybe prefixed, e.g. `policy/run-as-non-root`) to MAP's key."""
    for key in MAP:
        if rule == key or rule.endswith("/" + key) or rule.endswith("." + key) or rule.endswith(":" + key):
            return key
    return None


def main():
    if len(sys.argv) != 5:
        fail("usage: compare_policy.py CHECKOV_JSON GITOPS_GUARD_JSON SCAN_ROOT DISAGREEMENTS_TSV")
    ck, gg, root, dis_path = load_json(sys.argv[1]), load_json(sys.argv[2]), os.path.abspath(sys.argv[3]), sys.argv[4]

    reports = ck if isinstance(ck, list) else [ck]
    reports = [r for r in reports if r.get("check_type") == "kubernetes"]
    # resources[(file, resource)] = (first_line, last_line); verdict[(file, resource, ckv)] = PASSED/FAILED
    resources, verdict = {}, {}
    ck_failed = Counter()
    for r in reports:
        res = r.get("results", {})
        for kind in ("passed_checks", "failed_checks"):
            for c in res.get(kind, []):
                f = norm_path(c.get("file_path", ""), root)
                key = (f, c.get("resource", "?"))
                lr = c.get("file_line_range") or [0, 0]
                resources[key] = (lr[0], lr[1])
                v = c["check_result"]["result"]
                verdict[(f, key[1], c["check_id"])] = v
                if v == "FAILED":
                    ck_failed[c["check_id"]] += 1

    findings = gg.get("findings")
    if not isinstance(findings, list):
        fail("gitops-guard JSON has no `findings` array")
    by_file = defaultdict(list)
    for (f, res), (a, b) in resources.items():
        by_file[f].append((a, b, res))

    gg_flag = defaultdict(set)    # (file, resource) -> set of MAP keys gitops-guard flagged
    gg_rules = Counter()
    unplaced = Counter()          # mapped findings outside every resource checkov evaluated
    for fnd in findings:
        rule = str(fnd.get("rule", "?"))
        gg_rules[(fnd.get("category", "?"), rule)] += 1
        key = gg_check_id(rule)
        if key is None:
            continue
        f = norm_path(str(fnd.get("path", "")), root)
        line = fnd.get("line") or 0
        spans = [(b - a, res) for a, b, res in by_file.get(f, []) if a <= line <= b]
        if spans:
            gg_flag[(f, min(spans)[1])].add(key)
        else:
            unplaced[key] += 1

    rows, dis = [], []

    def span(f, res):
        a, b = resources[(f, res)]
        return f"{a}-{b}"

    for key, ids in MAP.items():
        both = only_gg = only_ck = neither = 0
        for (f, res) in sorted(resources):
            vs = [verdict.get((f, res, i)) for i in ids]
            if all(v is None for v in vs):
                continue  # checkov did not evaluate this check on this resource
            ck_fail = any(v == "FAILED" for v in vs)
            g = key in gg_flag.get((f, res), ())
            if ck_fail and g:
                both += 1
            elif g:
                only_gg += 1
                dis.append((key, "only gitops-guard", f, res, span(f, res), ",".join(ids)))
            elif ck_fail:
                only_ck += 1
                failed = [i for i, v in zip(ids, vs) if v == "FAILED"]
                dis.append((key, "only checkov", f, res, span(f, res), ",".join(failed)))
            else:
                neither += 1
        rows.append(f"| {key} | {', '.join(ids)} | {both} | {only_gg} | {only_ck} | {neither} | {unplaced.get(key, 0)} |")

    with open(dis_path, "w", encoding="utf-8") as out:
        out.write("gitops_guard_check\twho_flags\tfile\tresource\tlines\tcheckov_ids\n")
        for d in dis:
            out.write("\t".join(d) + "\n")

    print("| gitops-guard check | checkov counterpart | both flag | only gitops-guard | only checkov | neither | gitops-guard findings outside checkov's resources |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    mapped_ck = {i for ids in MAP.values() for i in ids}
    other_ck = sorted((n, i) for i, n in ck_failed.items() if i not in mapped_ck)
    if other_ck:
        print("checkov failures with no gitops-guard counterpart: "
              + ", ".join(f"{i} ×{n}" for n, i in sorted(other_ck, reverse=True)))
        print()
    print("gitops-guard findings by rule: "
          + (", ".join(f"{r} ({c}) ×{n}" for (c, r), n in sorted(gg_rules.items(), key=lambda x: -x[1])) or "none"))


if __name__ == "__main__":
    main()
