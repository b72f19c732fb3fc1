#!/usr/bin/env python3
"""Draw the precision benchmark's sample and score it against the labels.

Findings are identified by (rule, path, hash): the hash is of the matched
text, so a label survives edits elsewhere in the file. The sample takes up
to --per-rule findings of every rule (30 by default), drawn with a
generator seeded by the seed and the rule id from the findings sorted by
identity, so the same scan gives the same sample; it must hold at least
--min-sample findings. --show prints each unlabelled finding's code, for
labelling.
"""
import argparse
import json
import os
import random
import sys


def load_labels(path):
    labels = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 6 or parts[4] not in ("real", "false") or not parts[5].strip():
                sys.exit(f"{path}:{n}: want rule, path, line, hash, real|false, reason (tab-separated): {line!r}")
            rule, p, _line, h, label, reason = parts
            labels[(rule, p, h)] = (label, reason)
    return labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("findings")
    ap.add_argument("labels")
    ap.add_argument("--root", required=True, help="directory the scan ran in")
    ap.add_argument("--go", required=True, help="Go source directory, shown as go/ in paths")
    ap.add_argument("--per-rule", type=int, default=30)
    ap.add_argument("--min-sample", type=int, default=200, help="the labelled sample must be at least this large")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--show", action="store_true", help="print the code of unlabelled findings")
    a = ap.parse_args()

    report = json.load(open(a.findings, encoding="utf-8"))
    go = a.go.rstrip("/") + "/"
    by_rule = {}
    for f in report["findings"]:
        path = "go/" + f["path"][len(go):] if f["path"].startswith(go) else f["path"]
        by_rule.setdefault(f["rule"], []).append((path, f["hash"], f["line"], f["message"]))
    labels = load_labels(a.labels)

    print(f"scanned {report['files_scanned']} files: {len(report['findings'])} findings")
    print(f"{'rule':32} {'found':>6} {'sampled':>7} {'real':>5} {'false':>5} {'precision':>9}")
    total = {"real": 0, "false": 0}
    unlabelled, missed = [], []
    for rule in sorted(by_rule):
        found = sorted(by_rule[rule])
        sample = random.Random(f"{a.seed}:{rule}").sample(found, min(a.per_rule, len(found)))
        counts = {"real": 0, "false": 0}
        for path, h, line, message in sample:
            label = labels.get((rule, path, h))
            if label is None:
                unlabelled.append((rule, path, line, h, message))
            else:
                counts[label[0]] += 1
        judged = counts["real"] + counts["false"]
        precision = counts["real"] / judged if judged else float("nan")
        total["real"] += counts["real"]
        total["false"] += counts["false"]
        if judged and precision < 0.90:
            missed.append(rule)
        print(f"{rule:32} {len(found):>6} {len(sample):>7} {counts['real']:>5} {counts['false']:>5} {precision:>9.1%}")
    judged = total["real"] + total["false"]
    overall = total["real"] / judged if judged else float("nan")
    print(f"{'overall':32} {sum(len(v) for v in by_rule.values()):>6} {judged + len(unlabelled):>7} {total['real']:>5} {total['false']:>5} {overall:>9.1%}")
    print(f"goals: >= 90.0% per rule, >= 95.0% overall, >= {a.min_sample} findings judged")

    status = 0
    if unlabelled:
        status = 1
        print(f"\n{len(unlabelled)} sampled findings have no label; read each and add a line to {a.labels}:")
        for rule, path, line, h, message in unlabelled:
            print(f"{rule}\t{path}\t{line}\t{h}\t?\t{message}")
            if a.show:
                show(os.path.join(a.root, path) if not path.startswith("go/") else os.path.join(go, path[3:]), line)
    if missed or (judged and overall < 0.95) or judged < a.min_sample:
        status = 1
        if judged < a.min_sample:
            missed.append(f"sample of {judged} < {a.min_sample}")
        print(f"\ngoal missed: {', '.join(missed) or 'overall'}")
    sys.exit(status)


def show(path, line):
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    except OSError as e:
        print(f"    ({e})")
        return
    for i in range(max(0, line - 3), min(len(lines), line + 14)):
        print(f"    {i + 1:5} {lines[i]}")


if __name__ == "__main__":
    main()
