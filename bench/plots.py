"""Figures for docs/benchmarks.md from the JSON the benchmarks leave behind.

    python bench/plots.py --scale DIR_100K/results.json DIR_1M/results.json \
        --api API_RESULT.json [--out docs/images]

search_scale.py writes DATA_DIR/results.json; api_overhead.py prints one JSON line (save it
to a file). Writes search_latency_by_user_share.png, search_recall_by_config.png and
api_health_rps.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SHARES = ["0.1%", "1%", "10%"]


def _label(chunks: int) -> str:
    return f"{chunks // 1_000_000}M" if chunks >= 1_000_000 else f"{chunks // 1000}k"


def latency_plot(runs: list[dict], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / (2 * len(runs))
    colors = {0: ("#9ecae1", "#3182bd"), 1: ("#fdae6b", "#e6550d")}
    for r, run in enumerate(runs):
        detail, api = run["by_user_share_detail"], run["api"]
        name = _label(run["chunks"])
        # paired pass (bare SQL right before each API call) when present, else the main pass
        sql = [api[s].get("paired_sql", detail[s]["sql"])["p95_ms"] for s in SHARES]
        api95 = [api[s]["precomputed"]["p95_ms"] for s in SHARES]
        for k, (values, kind) in enumerate(((sql, "SQL"), (api95, "API"))):
            xs = [i + (2 * r + k - len(runs) + 0.5) * width for i in range(len(SHARES))]
            bars = ax.bar(xs, values, width, color=colors[r % 2][k], label=f"{name} {kind} p95")
            ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.axhline(30, color="grey", ls="--", lw=1)
    ax.text(-0.45, 31, "SQL target 30 ms", ha="left", va="bottom", fontsize=8, color="grey")
    users = "  ".join(
        f"{s}: {runs[-1]['by_user_share_detail'][s]['user_chunks']:,}" for s in SHARES
    )
    ax.set_xticks(range(len(SHARES)), [f"user with {s} of chunks" for s in SHARES])
    ax.set_ylabel("p95 latency (ms), log scale")
    ax.set_yscale("log")
    ax.set_title(
        f"Hybrid search p95 by user size (chunks of the user at {_label(runs[-1]['chunks'])}: {users})",
        fontsize=9,
    )
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "search_latency_by_user_share.png", dpi=120)
    plt.close(fig)


def recall_plot(runs: list[dict], out: Path) -> None:
    fig, axes = plt.subplots(
        1, len(runs), figsize=(5.5 * len(runs), 4.8), sharey=True, squeeze=False
    )
    for ax, run in zip(axes[0], runs, strict=True):
        detail = run["by_user_share_detail"]
        configs: dict[str, list[float]] = {
            "app: exact, own index or shared index": [detail[s]["recall@10"] for s in SHARES]
        }
        names = list(detail[SHARES[0]]["dense_variants"])
        for name in names:
            configs["fixed " + name.replace("hnsw_", "").replace("_", " ")] = [
                detail[s]["dense_variants"].get(name, {}).get("recall@10", float("nan"))
                for s in SHARES
            ]
        for name, per in (run.get("index_variants") or {}).items():
            configs[name.replace(",ef_construction=", " efc=")] = [
                per.get(s, {}).get("recall@10", float("nan")) for s in SHARES
            ]
        width = 0.8 / len(configs)
        for c, (name, values) in enumerate(configs.items()):
            xs = [i + (c - len(configs) / 2 + 0.5) * width for i in range(len(SHARES))]
            ax.bar(xs, values, width, label=name)
        ax.axhline(0.95, color="grey", ls="--", lw=1)
        ax.set_ylim(0.3, 1.02)
        ax.set_xticks(range(len(SHARES)), SHARES)
        ax.set_xlabel("user's share of all chunks")
        ax.set_title(f"{_label(run['chunks'])} chunks: dense recall@10 vs exact", fontsize=10)
    axes[0][0].set_ylabel("recall@10 (target 0.95)")
    handles, labels = max(
        (ax.get_legend_handles_labels() for ax in axes[0]), key=lambda hl: len(hl[1])
    )
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(out / "search_recall_by_config.png", dpi=120)
    plt.close(fig)


def rps_plot(api: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    names = ["DocChat /health", "bare Starlette"]
    values = [api["health_rps"], api["starlette_rps"]]
    colors = ["#3182bd", "#bdbdbd"]
    if "prototype_fast_health_route_rps" in api:
        names.insert(1, "prototype:\n/health as plain route")
        values.insert(1, api["prototype_fast_health_route_rps"])
        colors.insert(1, "#9ecae1")
    bars = ax.bar(names, values, color=colors)
    ax.bar_label(bars, fmt="%.0f")
    ax.axhline(api["starlette_rps"] * 0.5, color="grey", ls="--", lw=1)
    ax.text(
        len(names) - 0.6,
        api["starlette_rps"] * 0.5,
        "50 % target",
        va="bottom",
        ha="right",
        fontsize=8,
    )
    ax.set_ylabel("requests/s (1 uvicorn process)")
    ax.set_title(f"{api.get('load_generator', '')}: ratio {api['ratio']:.2f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "api_health_rps.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", nargs="*", type=Path, default=[])
    parser.add_argument("--api", type=Path)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for path in args.scale:
        run = json.loads(path.read_text())
        paired = path.with_name("results-api.json")  # search_scale.py --only-api
        if paired.exists():
            run["api"] = json.loads(paired.read_text())["api"]
        runs.append(run)
    runs.sort(key=lambda r: r["chunks"])
    if runs:
        latency_plot(runs, args.out)
        recall_plot(runs, args.out)
    if args.api:
        lines = [line for line in args.api.read_text().splitlines() if line.strip().startswith("{")]
        rps_plot(json.loads(lines[-1]), args.out)


if __name__ == "__main__":
    main()
