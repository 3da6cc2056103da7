"""`mmagent eval report RUN [RUN ...]`: Markdown + PNG plots comparing runs side by side:
accuracy per family and per step count, accuracy vs tokens, latency distribution."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError


def load_run(run: Path) -> tuple[str, list[dict[str, Any]]]:
    results = run / "results.jsonl" if run.is_dir() else run
    if not results.is_file():
        raise UserInputError(f"no results.jsonl in {run}")
    from mmagent.evals.runner import read_results

    return (run.name if run.is_dir() else run.stem), read_results(results)


def _acc(rows: list[dict]) -> float:
    return sum(r["score"] for r in rows) / len(rows) if rows else float("nan")


def group(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = defaultdict(list)
    for r in rows:
        out[r.get(key)].append(r)
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))


def _mean(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return sum(vals) / len(vals) if vals else float("nan")


def group_tables(data: list[tuple[str, list[dict]]]) -> list[str]:
    """Tables for the breakdowns a benchmark declares (ScienceQA subject/context/grade); a row
    whose group value is a list counts in each of its groups."""
    keys = sorted({k for _, rows in data for r in rows for k in (r.get("groups") or {})})
    lines: list[str] = []
    for key in keys:
        per_run = []
        for _, rows in data:
            g: dict[str, list[dict]] = defaultdict(list)
            for r in rows:
                vals = (r.get("groups") or {}).get(key)
                for v in vals if isinstance(vals, list) else [vals] if vals is not None else []:
                    g[str(v)].append(r)
            per_run.append(g)
        values = sorted({v for g in per_run for v in g})
        lines += [
            "",
            f"## Accuracy per {key}",
            "",
            f"| {key} | " + " | ".join(n for n, _ in data) + " |",
            "|---" * (len(data) + 1) + "|",
        ]
        lines += [
            f"| {v} | " + " | ".join(f"{_acc(g.get(v, [])):.3f} (n={len(g.get(v, []))})" for g in per_run) + " |"
            for v in values
        ]
    return lines


def write_rows(data: list[tuple[str, list[dict]]], path: Path) -> None:
    """One CSV row per question and run: what was asked, the gold answer, the prediction, the score."""
    import csv

    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "id", "family", "question", "gold", "prediction", "score", "wall_s", "error"])
        for name, rows in data:
            for r in rows:
                w.writerow(
                    [
                        name,
                        r.get("id"),
                        r.get("family"),
                        r.get("question"),
                        r.get("gold"),
                        r.get("prediction"),
                        r.get("score"),
                        round(float(r.get("wall_s") or 0), 2),
                        r.get("error", ""),
                    ]
                )


def _tokens(row: dict) -> int:
    """Prompt plus completion tokens of one question (the dict also holds counts of other things)."""
    t = row.get("tokens") or {}
    return t.get("prompt", 0) + t.get("completion", 0)


def write_report(runs: list[Path], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = [load_run(r) for r in runs]
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Evaluation report",
        "",
        "| run | n | accuracy | errors | mean rounds | mean tool calls | mean LLM calls | median wall s "
        "| mean tokens | prompt cached |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in data:
        walls = sorted(r.get("wall_s", 0) for r in rows)
        toks = [_tokens(r) for r in rows]
        prompt = sum((r.get("tokens") or {}).get("prompt", 0) for r in rows)
        cached = sum((r.get("tokens") or {}).get("prompt_cached", 0) for r in rows)
        calls = [
            (r.get("tokens") or {}).get("llm_calls", sum(e.get("type") == "llm_call" for e in r.get("trace", [])))
            for r in rows
        ]  # runs recorded before results counted calls: from the trace
        lines.append(
            f"| {name} | {len(rows)} | {_acc(rows):.3f} | {sum(bool(r.get('error')) for r in rows)} | "
            f"{_mean(rows, 'rounds'):.2f} | {_mean(rows, 'tool_calls'):.1f} | "
            f"{sum(calls) / max(1, len(calls)):.2f} | {walls[len(walls) // 2] if walls else 0:.1f} | "
            f"{sum(toks) / max(1, len(toks)):.0f} | {cached / prompt if prompt else 0:.0%} |"
        )
    lines += group_tables(data)
    for key, title in (
        ("family", "Accuracy per family"),
        ("steps", "Accuracy per step count"),
        ("rounds", "Accuracy per rounds used"),
    ):
        if not any(key in r for _, rows in data for r in rows):
            continue  # runs recorded before loops reported rounds
        keys = sorted({k for _, rows in data for k in group(rows, key)}, key=str)
        lines += [
            "",
            f"## {title}",
            "",
            "| " + key + " | " + " | ".join(n for n, _ in data) + " |",
            "|---" * (len(data) + 1) + "|",
        ]
        for k in keys:
            lines.append(
                f"| {k} | "
                + " | ".join(
                    f"{_acc(group(rows, key).get(k, [])):.3f} (n={len(group(rows, key).get(k, []))})"
                    for _, rows in data
                )
                + " |"
            )
        fig, ax = plt.subplots(figsize=(7, 3.5))
        width = 0.8 / max(1, len(data))
        for i, (name, rows) in enumerate(data):
            g = group(rows, key)
            ax.bar([j + i * width for j in range(len(keys))], [_acc(g.get(k, [])) for k in keys], width, label=name)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], [str(k) for k in keys])
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(title)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / f"accuracy_by_{key}.png", dpi=110)
        plt.close(fig)
        lines += ["", f"![{title}](accuracy_by_{key}.png)"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, rows in data:
        a1.hist([r.get("wall_s", 0) for r in rows], bins=20, alpha=0.6, label=name)
        a2.scatter([_tokens(r) for r in rows], [r["score"] for r in rows], s=12, label=name)
    a1.set_xlabel("wall seconds per question")
    a1.set_title("Latency")
    a2.set_xlabel("tokens per question")
    a2.set_ylabel("score")
    a2.set_title("Score vs tokens")
    a1.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "latency_tokens.png", dpi=110)
    plt.close(fig)
    lines += [
        "",
        "![Latency and tokens](latency_tokens.png)",
        "",
        "Per-question rows of every run: [rows.csv](rows.csv).",
        "",
    ]
    write_rows(data, out_dir / "rows.csv")
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
