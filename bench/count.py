#!/usr/bin/env python3
"""Count one tool's findings and, for the generated repository, how many planted secrets it found.

    count.py TOOL OUTPUT [PLANTED_TSV WHERE]

TOOL is gitops-guard | ripsecrets | detect-secrets | trufflehog; OUTPUT is the file holding
that tool's output (JSON, JSON lines or text, as the benchmark scripts run it). PLANTED_TSV
is bench-planted.tsv of the generated repository; WHERE is `head` (only secrets still in the
HEAD tree count) or `history` (all of them).

Prints one tab-separated line:
    findings  secret_findings  planted_found  planted_total  unmatched
where `unmatched` counts findings that match no planted secret (on the generated repository
these are false alarms: everything else in it is a placeholder, digest, UUID or hash), and
fields that do not apply are `-`. For gitops-guard only findings of category `secret` are
matched and counted as unmatched: its other categories (policy checks, secretKeyRef
advisories, ...) make no claim that a value is a leaked secret. Secrets are never printed. Exit 2 on unreadable output.
"""

import json
import sys


def fail(msg):
    print(f"count.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load_planted(path, where):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            if where == "head" and r["where"] != "file":
                continue
            rows.append(r)
    return rows


def gitops_guard(text):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"gitops-guard output is not JSON: {e}")
    findings = doc.get("findings")
    if not isinstance(findings, list):
        fail("gitops-guard JSON has no `findings` array")
    out = []
    for f in findings:
        out.append({"secret": f.get("category") == "secret", "sha256": f.get("secret_sha256") or ""})
    return out


def ripsecrets(text):
    # path:line:the whole line
    return [{"text": line} for line in text.splitlines() if line.strip()]


def detect_secrets(text):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"detect-secrets output is not JSON: {e}")
    out = []
    for items in doc.get("results", {}).values():
        for it in items:
            out.append({"sha1": it.get("hashed_secret", "")})
    return out


def trufflehog(text):
    out = []
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):  # cut short when a time limit killed it
                break
            fail(f"trufflehog output line {n} is not JSON")
        out.append({"strings": d.get("stringsFound", [])})
    return out


def matches(finding, p):
    if "sha256" in finding:
        return finding["sha256"] and finding["sha256"] in (p["sha256"], p["alt_sha256"])
    if "sha1" in finding:
        return finding["sha1"] in (p["sha1"], p["alt_sha1"])
    if "text" in finding:
        return p["secret"] in finding["text"]
    return any(p["secret"] in s for s in finding["strings"])


def main():
    if len(sys.argv) not in (3, 5):
        fail(__doc__.strip().splitlines()[2].strip())
    tool, path = sys.argv[1], sys.argv[2]
    parse = {"gitops-guard": gitops_guard, "ripsecrets": ripsecrets,
             "detect-secrets": detect_secrets, "trufflehog": trufflehog}.get(tool)
    if parse is None:
        fail(f"unknown tool {tool}")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        fail(f"cannot read {path}: {e}")
    findings = parse(text)
    secret_findings = sum(1 for f in findings if f.get("secret")) if tool == "gitops-guard" else "-"
    found = total = unmatched = "-"
    if len(sys.argv) == 5:
        planted = load_planted(sys.argv[3], sys.argv[4])
        total = len(planted)
        hit = set()
        unmatched = 0
        for f in findings:
            if tool == "gitops-guard" and not f["secret"]:
                continue
            m = [i for i, p in enumerate(planted) if matches(f, p)]
            hit.update(m)
            if not m:
                unmatched += 1
        found = len(hit)
    print("\t".join(str(x) for x in (len(findings), secret_findings, found, total, unmatched)))


if __name__ == "__main__":
    main()
