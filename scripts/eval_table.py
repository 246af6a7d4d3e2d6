#!/usr/bin/env python3
"""`glassbox evaluate`'s metrics.json as Markdown tables (for bench/RESULTS.md). Standard library only.

    python3 scripts/eval_table.py EVAL_DIR/metrics.json [NAME=MODEL_NAME_PREFIX ...]

Per class: one row per model with every per-case mean [95% bootstrap interval], then the pooled
figures (global Dice, the LiTS ranking figure) and lesion detection; then the paired comparisons
(mean difference [95% interval], Wilcoxon p). NAME=PREFIX renames the models whose name (as evaluate wrote it) starts with PREFIX.
"""
import json
import math
import sys


def num(x, f="{:.3f}"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f.format(x)


def main(argv):
    if not argv:
        sys.exit(__doc__)
    with open(argv[0]) as f:
        j = json.load(f)
    names = dict(a.split("=", 1) for a in argv[1:])

    def short(m):  # the first NAME whose PREFIX starts the model's name, else the name as evaluate wrote it
        for n, sub in names.items():
            if m.startswith(sub):
                return n
        return m

    unit = j.get("distance_unit", "")
    print(f"Empty-mask convention: {j['empty_mask_convention']}  \nDistances in {unit}.\n")
    classes = [c["name"] for c in j["classes"]]
    for cls in classes:
        rows = []
        metrics = None
        for m in j["models"]:
            s = next(x for x in m["summary"] if x["class"] == cls)
            if metrics is None:
                metrics = list(s["mean"].keys())
            rows.append((short(m["name"]), s))
        print(f"**{cls}** ({rows[0][1]['cases']} cases; per-case mean [95% bootstrap interval])\n")
        print("| model | " + " | ".join(metrics) + " |")
        print("|---|" + "---|" * len(metrics))
        for n, s in rows:
            cells = []
            for k in metrics:
                e = s["mean"][k]
                c = e.get("ci95") or [None, None]
                cells.append(num(e["mean"]) + (f" [{num(c[0])}, {num(c[1])}]" if c[0] is not None else ""))
            print(f"| {n} | " + " | ".join(cells) + " |")
        print()
        print("| model | global Dice | global IoU | global sens. | global prec. | lesions true / pred / found | "
              "lesion recall | precision | F1 | mean lesion Dice | empty: both / truth / pred |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n, s in rows:
            L = s["lesions"]
            print(f"| {n} | {num(s['global_dice'])} | {num(s['global_iou'])} | {num(s['global_sensitivity'])} | "
                  f"{num(s['global_precision'])} | {L['truth']} / {L['pred']} / {L['found']} | {num(L['recall'])} | "
                  f"{num(L['precision'])} | {num(L['f1'])} | {num(L['mean_lesion_dice'])} | "
                  f"{s['both_empty_cases']} / {s['truth_empty_cases']} / {s['pred_empty_cases']} |")
        print()
        comps = [c for c in j.get("comparisons", []) if c["class"] == cls]
        if comps:
            print("| A − B | metric | n | mean A | mean B | difference [95%] | Wilcoxon p |")
            print("|---|---|---|---|---|---|---|")
            for c in comps:
                w = c["wilcoxon"]
                print(f"| {short(c['a'])} − {short(c['b'])} | {c['metric']} | {c['n']} | {num(c['mean_a'])} | "
                      f"{num(c['mean_b'])} | {num(c['mean_diff'], '{:+.3f}')} [{num(c['diff_ci95'][0])}, "
                      f"{num(c['diff_ci95'][1])}] | {num(w['p'])} ({w['method']}) |")
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
