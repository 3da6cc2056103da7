"""Visual search report: the "search" family run with and without sliced perception, by target
size and kind, with the evidence-box hits, tiles and zooms per question, and wall time; plus
how many questions of the other families were read in tiles (should be none).

    .venv/bin/python bench/search.py RUNS_DIR [--families-run DIR]   # writes bench/results/search.{md,png}

RUNS_DIR holds search-report-plan/, search-report-noslice-plan/ and (optionally) search-report-ideal/
(`mmagent eval ... --out RUNS_DIR`, the last with `--planner ideal`).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("1%", "0.3%", "0.1%")
KINDS = ("read", "count", "relation", "colour")
RUNS = {  # column -> the run's folder under RUNS_DIR (columns whose run is missing are left out)
    "sliced": "search-report-plan",
    "whole": "search-report-noslice-plan",
    "ideal, sliced": "search-report-ideal",
}


def rows_of(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines() if line.strip()]


def perception(row: dict[str, Any]) -> tuple[int, int]:
    """(tiles read, zooms made) in the question's detection and OCR calls, as the run recorded."""
    return int(row.get("tiles", 0)), int(row.get("zooms", 0))


def acc(rows: list[dict[str, Any]]) -> float:
    return sum(r["score"] for r in rows) / len(rows) if rows else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path)
    ap.add_argument("--families-run", type=Path, help="a run of the other families (synthetic-report)")
    args = ap.parse_args()
    runs = {
        name: rows_of(args.runs / folder)
        for name, folder in RUNS.items()
        if (args.runs / folder / "results.jsonl").is_file()
    }
    header, rule = "| | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)

    lines = [
        "# Visual search on large images (the `search` family)",
        "",
        "Reported seed 3033 (`evals/configs/search-report.toml`, 36 questions: 3 of each kind at each",
        "target size, 3600x2700 canvases); developed on seed 99 (`search-dev.toml`). Multiple choice,",
        "scored exactly; evidence: a cited region on the input image with IoU >= 0.5 with the target.",
        "Offline default stack, 2-core CPU. `sliced`: the default `plan` planner; `whole`: the same",
        "agent with `slice_factor = 0` (every model reads the image whole); `ideal, sliced`: the",
        "`ideal` loop (sub-questions, zoom search), slicing on.",
        "",
        header,
        rule,
    ]
    summary: dict[str, dict[str, Any]] = {}
    for name, rows in runs.items():
        right = [r for r in rows if r["score"] >= 1]
        per_q = [perception(r) for r in rows]
        summary[name] = {
            "accuracy": acc(rows),
            "evidence_hit_of_right": sum(bool(r.get("evidence_hit")) for r in right) / len(right) if right else 0.0,
            "median_wall_s": statistics.median(r["wall_s"] for r in rows),
            "tiles_per_question": statistics.mean(t for t, _ in per_q),
            "zooms_per_question": statistics.mean(z for _, z in per_q),
        }
    for key, label, fmt in (
        ("accuracy", "accuracy", "{:.3f}"),
        ("evidence_hit_of_right", "evidence box hits the target, of right answers", "{:.3f}"),
        ("median_wall_s", "median wall s a question", "{:.1f}"),
        ("tiles_per_question", "tiles read a question (detection + OCR)", "{:.1f}"),
        ("zooms_per_question", "zooms a question", "{:.1f}"),
    ):
        lines.append(f"| {label} | " + " | ".join(fmt.format(summary[n][key]) for n in runs) + " |")
    by: dict[str, dict[str, dict[str, list]]] = {n: defaultdict(lambda: defaultdict(list)) for n in runs}
    for name, rows in runs.items():
        for r in rows:
            by[name]["size"][r["groups"]["target_size"]].append(r)
            by[name]["kind"][r["groups"]["kind"]].append(r)
    for axis, values in (("size", SIZES), ("kind", KINDS)):
        lines += ["", f"## Accuracy by target {axis}", "", header.replace("| |", f"| {axis} |", 1), rule]
        for v in values:
            lines.append(
                f"| {v} | " + " | ".join(f"{acc(by[n][axis][v]):.2f} (n={len(by[n][axis][v])})" for n in runs) + " |"
            )
    if args.families_run:
        other = rows_of(args.families_run)
        tiled = sum(1 for r in other if perception(r)[0] or perception(r)[1])
        lines += [
            "",
            "## The other nine families (synthetic-report, seed 3033)",
            "",
            f"accuracy {acc(other):.3f}; questions read in tiles or zoomed: {tiled} of {len(other)}.",
        ]
        summary["other_families"] = {"accuracy": acc(other), "tiled_or_zoomed": tiled, "n": len(other)}
    lines += ["", "![accuracy by target size](search.png)", ""]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(runs)
    for i, name in enumerate(runs):
        ax.bar([j + i * width for j in range(len(SIZES))], [acc(by[name]["size"][s]) for s in SIZES], width, label=name)
    ax.set_xticks(
        [j + 0.4 - width / 2 for j in range(len(SIZES))], [f"target: {s} of the image" for s in SIZES], fontsize=8
    )
    ax.set_ylim(0, 1.25)  # room for the legend above the bars
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("accuracy")
    ax.set_title("search family, seed 3033: sliced perception and zoom search vs reading whole", fontsize=9)
    ax.legend(loc="upper center", ncol=len(runs), fontsize=8)
    fig.tight_layout()
    out = ROOT / "bench" / "results"
    fig.savefig(out / "search.png", dpi=120)
    report = out / "search.md"
    # "## Runs" (which runs of the reported set came before which fixes) is written by hand: kept
    history = report.read_text().partition("\n## Runs")[2] if report.is_file() else ""
    report.write_text("\n".join(lines) + ("\n## Runs" + history if history else ""))
    (out / "search.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
