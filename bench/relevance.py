"""Relevance of the example's threat list against the expert judgments in ../shared/eval/:
precision, recall and ranking, overall, per element and per source, with the rows that are new
since the judgments were made (unlabelled, listed for judging) and the judged `drop` rows still listed.

    python bench/relevance.py [--model examples/ai-system.yaml] [--eval ../shared/eval]

Rows are what `threatkg threats MODEL --format json` prints: a parent pattern with applicable
children is one row and its children are folded under it. Precision counts the printed rows; an
unlabelled row counts as not kept (a lower bound), and a row of seed-missing.csv as kept. Recall
counts a row as listed whether printed or folded.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"keep / all rows": 0.75, "keep / all CAPEC rows": 0.60, "(keep + marginal) / all rows": 0.95,
         "keep share of each element's 10 highest-risk rows": 0.80, "keep rows still listed": 0.90,
         "expected threats listed (seed-missing.csv)": 0.80}


def rows_of(model: Path) -> list[dict]:
    """The printed rows, in output order."""
    out = subprocess.run([sys.executable, "-m", "kg.cli", "threats", str(model), "--format", "json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def labels(eval_dir: Path) -> tuple[dict, dict]:
    judged = {(r["element"], r["threat"]): r["label"] for r in csv.DictReader(open(eval_dir / "seed-judgments.csv"))}
    missing = {(r["element"], r["threat"]): r["reason"] for r in csv.DictReader(open(eval_dir / "seed-missing.csv"))}
    return judged, missing


def label_of(key, judged, missing) -> str:
    return "keep" if key in missing else judged.get(key, "unlabelled")


def top(rows: list[dict], n: int = 10) -> list[dict]:
    """An element's n highest-risk rows, ties in output order."""
    return sorted(rows, key=lambda r: -r["risk"]["score"])[:n]


def measure(rows, judged, missing) -> dict:
    printed = [((r["component"], r["threat"]), r) for r in rows]
    listed = {k for k, _ in printed} | {(c["component"], c["threat"]) for r in rows for c in r.get("folded", [])}
    lab = Counter(label_of(k, judged, missing) for k, _ in printed)
    capec = Counter(label_of(k, judged, missing) for k, r in printed if r["source"] == "CAPEC")
    per_element = defaultdict(list)
    for k, r in printed:
        per_element[r["component"]].append(r)
    tops = {e: [label_of((e, r["threat"]), judged, missing) for r in top(rs)] for e, rs in per_element.items()}
    keeps = {k for k, v in judged.items() if v == "keep"}
    n = len(printed)
    return {
        "keep / all rows": (lab["keep"], n),
        "keep / all CAPEC rows": (capec["keep"], sum(capec.values())),
        "(keep + marginal) / all rows": (lab["keep"] + lab["marginal"], n),
        "keep share of each element's 10 highest-risk rows": (sum(t.count("keep") for t in tops.values()),
                                                               sum(len(t) for t in tops.values())),
        "keep rows still listed": (len(keeps & listed), len(keeps)),
        "expected threats listed (seed-missing.csv)": (len(set(missing) & listed), len(missing)),
        "_labels": lab, "_tops": tops, "_per_element": per_element, "_listed": listed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "examples" / "ai-system.yaml")
    default_eval = Path(os.environ.get("THREATKG_SHARED", ROOT.parent / "shared")) / "eval"
    parser.add_argument("--eval", type=Path, default=default_eval, help="folder of seed-judgments.csv, seed-missing.csv")
    args = parser.parse_args()
    if not (args.eval / "seed-judgments.csv").is_file():
        print(f"{args.eval}/seed-judgments.csv: not found (set THREATKG_SHARED or --eval)", file=sys.stderr)
        return 2
    judged, missing = labels(args.eval)
    rows = rows_of(args.model)
    m = measure(rows, judged, missing)

    print(f"Relevance of `threatkg threats {args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model}`"
          f" against {args.eval}\n")
    print(f"{'measure':52} {'value':>7} {'count':>9} {'goal':>6}  met")
    for name, goal in GOALS.items():
        hit, total = m[name]
        value = hit / total if total else 0.0
        print(f"{name:52} {value:7.2f} {f'{hit}/{total}':>9} {goal:6.2f}  {'yes' if value >= goal else 'NO'}")
    lab = m["_labels"]
    judged_rows = lab["keep"] + lab["marginal"] + lab["drop"]
    print(f"\nprinted rows: {sum(lab.values())} (keep {lab['keep']}, marginal {lab['marginal']}, drop {lab['drop']},"
          f" unlabelled {lab['unlabelled']}); keep / judged rows {lab['keep'] / max(1, judged_rows):.2f}")

    print(f"\n{'element':20} {'rows':>5} {'keep':>5} {'marg':>5} {'drop':>5} {'new':>5}  top-10 keep  top-10 rows")
    for element in sorted(m["_per_element"]):
        rs = m["_per_element"][element]
        c = Counter(label_of((element, r["threat"]), judged, missing) for r in rs)
        t = m["_tops"][element]
        print(f"{element:20} {len(rs):5} {c['keep']:5} {c['marginal']:5} {c['drop']:5} {c['unlabelled']:5}"
              f"  {t.count('keep') / len(t):11.2f}  {' '.join(r['threat'] for r in top(rs))}")

    print(f"\n{'source':8} {'rows':>5} {'keep':>5} {'marg':>5} {'drop':>5} {'new':>5}  keep/rows")
    by_source = defaultdict(Counter)
    for r in rows:
        by_source[r["source"]][label_of((r["component"], r["threat"]), judged, missing)] += 1
    for source, c in sorted(by_source.items()):
        n = sum(c.values())
        print(f"{source:8} {n:5} {c['keep']:5} {c['marginal']:5} {c['drop']:5} {c['unlabelled']:5}  {c['keep'] / n:9.2f}")

    new = [r for r in rows if label_of((r["component"], r["threat"]), judged, missing) == "unlabelled"]
    print(f"\nnew rows since the judgments ({len(new)}, unlabelled):")
    for r in new:
        print(f"  {r['component']:20} {r['threat']:16} {r['label'][:60]}")
    drops = [r for r in rows if judged.get((r["component"], r["threat"])) == "drop"]
    print(f"\njudged drop rows still listed ({len(drops)}):")
    for r in drops:
        print(f"  {r['component']:20} {r['threat']:16} {r['label'][:60]}")
    lost_keep = sorted(k for k, v in judged.items() if v == "keep" and k not in m["_listed"])
    lost_missing = sorted(k for k in missing if k not in m["_listed"])
    print(f"\njudged keep rows no longer listed ({len(lost_keep)}): " + ", ".join(f"{e} {t}" for e, t in lost_keep))
    print(f"expected threats not listed ({len(lost_missing)}): " + ", ".join(f"{e} {t}" for e, t in lost_missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
