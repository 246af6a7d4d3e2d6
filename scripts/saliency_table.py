#!/usr/bin/env python3
"""Saliency metrics of several models' explanations of the same planes, side by side (issue 10 part 9).

    python3 scripts/saliency_table.py NAME=EXPLAIN_DIR [NAME=EXPLAIN_DIR ...] [--seed 1] [--boot 2000]

Each EXPLAIN_DIR is a `glassbox explain` output folder (metrics.json). Rows with scope "slice" are the
unit: one plane of one case (a 3-D model's window map scored on that plane alone, as a 2-D model's
slice map is). Only planes every model explained are kept, so the comparison is paired. Printed as
Markdown: per model and method, the mean of each metric with a 95% percentile bootstrap interval
(resampling planes), the chance rows of each model (a random and a Sobel-edge map scored alike on the
same planes; deletion / insertion AUCs are in units of that model's T, so compare them with its own
chance rows, not across models), and per method and metric a paired Wilcoxon signed-rank test between every
two models (two-sided; exact for n <= 20 without ties, else the normal approximation with tie
correction). Planes of one volume are correlated, so the intervals are optimistic; the per-volume
means are printed too. Standard library only.
"""
import itertools
import json
import math
import random
import sys
from collections import defaultdict

METRICS = ["pointing_game", "mass_in_mask", "rank_accuracy", "roc_auc", "iou_otsu", "dice_otsu", "iou_topk",
           "dice_topk", "gini"]


def load(folder):
    with open(folder + "/metrics.json") as f:
        rows = json.load(f)
    out = defaultdict(dict)  # method -> (name, slice) -> row
    for r in rows:
        if r.get("scope", "slice") != "slice":
            continue
        out[r["method"]][(r["name"], r["slice"])] = r
    return out


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def boot_ci(v, rng, n_boot):
    if not v:
        return (float("nan"), float("nan"))
    ms = sorted(mean([v[rng.randrange(len(v))] for _ in v]) for _ in range(n_boot))
    return ms[int(0.025 * n_boot)], ms[min(n_boot - 1, int(0.975 * n_boot))]


def wilcoxon(a, b):
    """Two-sided paired Wilcoxon signed-rank p (zeros dropped); None when no non-zero difference."""
    d = [x - y for x, y in zip(a, b) if x - y != 0]
    n = len(d)
    if n == 0:
        return None
    order = sorted(range(n), key=lambda i: abs(d[i]))
    ranks = [0.0] * n
    i, ties = 0, False
    tie_term = 0.0
    while i < n:
        j = i
        while j + 1 < n and abs(d[order[j + 1]]) == abs(d[order[i]]):
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = r
        t = j - i + 1
        if t > 1:
            ties = True
            tie_term += t ** 3 - t
        i = j + 1
    w_plus = sum(r for r, x in zip(ranks, d) if x > 0)
    if n <= 20 and not ties:
        total = n * (n + 1) / 2
        w = min(w_plus, total - w_plus)
        count = 0
        for signs in range(1 << n):  # exact null distribution of W+
            s = sum(k + 1 for k in range(n) if signs >> k & 1)
            count += s <= w
        return min(1.0, 2 * count / (1 << n))
    mu = n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48)
    z = (w_plus - mu) / sigma if sigma > 0 else 0
    return math.erfc(abs(z) / math.sqrt(2))


def fmt(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def main(argv):
    seed, n_boot, pairs = 1, 2000, []
    it = iter(argv)
    for a in it:
        if a == "--seed":
            seed = int(next(it))
        elif a == "--boot":
            n_boot = int(next(it))
        elif "=" in a:
            name, folder = a.split("=", 1)
            pairs.append((name, load(folder)))
        else:
            sys.exit(f"saliency_table.py: expected NAME=EXPLAIN_DIR, got {a!r}")
    if not pairs:
        sys.exit(__doc__)
    methods = [m for m in pairs[0][1] if not m.startswith("chance-")]
    global METRICS
    first = next(iter(next(iter(pairs[0][1].values())).values()))
    METRICS = METRICS + [m for m in ("deletion_auc", "insertion_auc") if first.get(m) is not None]
    rng = random.Random(seed)
    for method in methods:
        common = None
        for _, d in pairs:
            keys = set(d.get(method, {}))
            common = keys if common is None else common & keys
        common = sorted(common)
        if not common:
            print(f"{method}: no plane explained by every model\n")
            continue
        vols = sorted({k[0].split("_slice_")[0] for k in common})
        print(f"### {method}: {len(common)} tumour planes of {len(vols)} volume(s) ({', '.join(vols)})\n")
        print("| model | " + " | ".join(METRICS) + " |")
        print("|---|" + "---|" * len(METRICS))
        rows = [(n, d[method]) for n, d in pairs]
        # Chance rows per model: the random and edge maps are the same for every model, but deletion /
        # insertion score them with that model's T (and the planes a model skipped differ).
        for n, d in pairs:
            rows += [(f"chance: {c[7:]} ({n})", d[c]) for c in ("chance-random", "chance-edge") if c in d]
        values = {}
        for name, d in rows:
            cells = []
            for m in METRICS:
                v = [d[k][m] for k in common if k in d and d[k].get(m) is not None]
                values[(name, m)] = v
                lo, hi = boot_ci(v, rng, n_boot)
                cells.append(f"{fmt(mean(v))} [{fmt(lo)}, {fmt(hi)}]")
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
        if method == "ig":
            print("IG completeness |sum IG - (T(x) - T(x'))| / |T(x) - T(x')| over the planes (a 3-D model's planes "
                  "share their window's):\n")
            for name, d in pairs:
                dr = sorted(abs(d[method][k]["delta_rel"]) for k in common if d[method][k].get("delta_rel") is not None)
                if dr:
                    print(f"- {name}: median {100 * dr[len(dr) // 2]:.2f} %, worst {100 * dr[-1]:.2f} %")
            print()
        print("Per volume (mean over its planes):\n")
        print("| model | volume | planes | " + " | ".join(METRICS) + " |")
        print("|---|---|---|" + "---|" * len(METRICS))
        for name, d in rows:
            for vol in vols:
                ks = [k for k in common if k[0].split("_slice_")[0] == vol and k in d]
                cells = [fmt(mean([d[k][m] for k in ks if d[k].get(m) is not None])) for m in METRICS]
                print(f"| {name} | {vol} | {len(ks)} | " + " | ".join(cells) + " |")
        print()
        if len(pairs) > 1:
            print("Paired Wilcoxon signed-rank p (two-sided), per metric:\n")
            print("| A vs B | " + " | ".join(METRICS) + " |")
            print("|---|" + "---|" * len(METRICS))
            for (na, da), (nb, db) in itertools.combinations(pairs, 2):
                cells = []
                for m in METRICS:
                    ks = [k for k in common if da[method][k].get(m) is not None and db[method][k].get(m) is not None]
                    p = wilcoxon([da[method][k][m] for k in ks], [db[method][k][m] for k in ks])
                    diff = mean([da[method][k][m] - db[method][k][m] for k in ks])
                    cells.append(f"{diff:+.3f} (p {fmt(p)})")
                print(f"| {na} − {nb} | " + " | ".join(cells) + " |")
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
