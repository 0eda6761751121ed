#!/usr/bin/python3
"""plots.py — draw docs/img/inproc.svg and docs/img/servers.svg from the JSON lines in docs/data.

Run by scripts/plots.sh (which installs Debian's python3-matplotlib if missing); the data comes
from scripts/perf-data.sh. Input: one JSON object per line per (implementation, workload, round),
as docs/workloads.md describes: {"impl", "workload", "ops", "secs", "ops_per_sec", "extra"}.

- inproc.svg: per in-process workload, each runtime's throughput divided by corio's median
  (corio = 1; a bar shorter than corio's is a runtime slower than corio on that workload). The bar
  is the median of the rounds, the whisker their min-max, both divided by the same corio median.
  Ratios rather than absolute rates because the workloads' rates span 0.5 to 35 M ops/s; the
  absolute corio median is written under each workload's name.
- servers.svg: per server workload, each runtime's throughput and p99 latency (median of the
  rounds, whiskers min-max).

The SVGs are meant to be checked in and diffed: text stays text (svg.fonttype none, no embedded
glyphs), ids come from a fixed salt, and the metadata carries no date or version, so the same input
gives the same bytes.
"""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402  (after use())

plt.rcParams.update({
    "svg.fonttype": "none",
    "svg.hashsalt": "corio-docs",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})
METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

IMPLS = ["corio", "tokio", "go", "asio"]
LABEL = {"corio": "corio", "tokio": "Tokio 1.24", "go": "Go 1.19", "asio": "Asio 1.81"}
COLOR = {"corio": "#1f5fa8", "tokio": "#d9822b", "go": "#2a9d8f", "asio": "#8d6cab"}
INPROC_ORDER = ["spawn_many", "spawn_join", "yield_many", "ping_pong", "chained_spawn",
                "mpsc_uncontended", "mpsc_contended", "mpsc_unbounded", "mpmc_contended",
                "oneshot_rpc", "broadcast_fanout", "broadcast_lagged", "watch_updates",
                "select_two", "timeout_churn", "sleep_many"]
SERVER_ORDER = ["tcp_echo", "http_hello"]


def load(path):
    """(workload, impl) -> list of records, in file order."""
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["workload"], r["impl"])].append(r)
    return runs


def rate(v):
    """3.43e6 -> '3.43M', 811000 -> '811k'."""
    if v >= 1e6:
        return f"{v / 1e6:.3g}M"
    return f"{v / 1e3:.3g}k"


def spread(values):
    return statistics.median(values), min(values), max(values)


def inproc(runs, out):
    workloads = [w for w in INPROC_ORDER if (w, "corio") in runs]
    n = len(IMPLS)
    bar_h = 0.8 / n
    fig, ax = plt.subplots(figsize=(8.0, 0.62 * len(workloads) + 1.4))
    xmax = 0.0
    for i, w in enumerate(workloads):
        base = statistics.median(r["ops_per_sec"] for r in runs[(w, "corio")])
        for j, impl in enumerate(IMPLS):
            y = i + (j - (n - 1) / 2) * bar_h
            rs = runs.get((w, impl))
            if not rs:
                ax.text(0.02, y, f"(not in the {LABEL[impl].split()[0]} peer)", va="center",
                        fontsize=6.5, color="#888888")
                continue
            med, lo, hi = (v / base for v in spread([r["ops_per_sec"] for r in rs]))
            ax.barh(y, med, height=bar_h * 0.9, color=COLOR[impl],
                    label=LABEL[impl] if i == 0 else None)
            ax.plot([lo, hi], [y, y], color="#222222", linewidth=0.8)
            ax.plot([lo, lo], [y - bar_h * 0.25, y + bar_h * 0.25], color="#222222", linewidth=0.8)
            ax.plot([hi, hi], [y - bar_h * 0.25, y + bar_h * 0.25], color="#222222", linewidth=0.8)
            if impl != "corio":
                ax.text(hi + 0.03, y, f"{med:.2f}", va="center", fontsize=6.5)
            xmax = max(xmax, hi)
    ax.axvline(1.0, color="#1f5fa8", linewidth=0.8, linestyle="--")
    labels = []
    for w in workloads:
        base = statistics.median(r["ops_per_sec"] for r in runs[(w, "corio")])
        flume = " (Tokio: flume)" if w == "mpmc_contended" else ""
        labels.append(f"{w}\ncorio {rate(base)} ops/s{flume}")
    ax.set_yticks(range(len(workloads)))
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, xmax * 1.08 + 0.15)
    ax.set_xlabel("throughput relative to corio's median (corio = 1; shorter bar = slower than corio)")
    rounds = len(runs[(workloads[0], "corio")])
    fig.suptitle(f"In-process workloads, 2 workers: median of {rounds} interleaved rounds, "
                 "whiskers min–max", fontsize=9.5, y=0.995)
    top = 1 - 0.5 / fig.get_figheight()
    fig.legend(loc="upper center", fontsize=8, frameon=False, ncol=4, bbox_to_anchor=(0.5, top))
    fig.tight_layout(rect=(0, 0, 1, top - 0.25 / fig.get_figheight()))
    fig.savefig(out, metadata=METADATA)
    plt.close(fig)


def servers(runs, out):
    impls = [i for i in IMPLS if any((w, i) in runs for w in SERVER_ORDER)]
    n = len(impls)
    width = 0.8 / n
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6))
    panels = [
        (axes[0], lambda r: r["ops_per_sec"] / 1e3, "thousand round trips or requests / s",
         "Throughput (higher is better)", "{:.0f}k"),
        (axes[1], lambda r: r["extra"]["p99_us"] / 1e3, "p99 latency, ms",
         "p99 latency (lower is better)", "{:.2f}"),
    ]
    for ax, get, ylabel, title, fmt in panels:
        top_of_axis = max(get(r) for w in SERVER_ORDER for i in impls for r in runs.get((w, i), []))
        for i, w in enumerate(SERVER_ORDER):
            for j, impl in enumerate(impls):
                rs = runs.get((w, impl))
                if not rs:
                    continue
                x = i + (j - (n - 1) / 2) * width
                med, lo, hi = spread([get(r) for r in rs])
                ax.bar(x, med, width=width * 0.9, color=COLOR[impl],
                       label=LABEL[impl] if i == 0 else None)
                ax.plot([x, x], [lo, hi], color="#222222", linewidth=0.8)
                ax.plot([x - width * 0.2, x + width * 0.2], [lo, lo], color="#222222", linewidth=0.8)
                ax.plot([x - width * 0.2, x + width * 0.2], [hi, hi], color="#222222", linewidth=0.8)
                ax.text(x, top_of_axis * 0.02, fmt.format(med), ha="center", va="bottom",
                        fontsize=7, rotation=90, color="#ffffff")
        ax.set_xticks(range(len(SERVER_ORDER)))
        ax.set_xticklabels(SERVER_ORDER)
        ax.set_ylim(0, top_of_axis * 1.05)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9.5)
    rounds = max(len(v) for v in runs.values())
    fig.suptitle(f"Servers, 50 connections, 5 s per run: median of {rounds} interleaved rounds, "
                 "whiskers min–max", fontsize=9.5, y=0.99)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", fontsize=8,
               frameon=False, ncol=n, bbox_to_anchor=(0.5, 0.935))
    fig.tight_layout(rect=(0, 0, 1, 0.87))
    fig.savefig(out, metadata=METADATA)
    plt.close(fig)


def main():
    data, img = Path(sys.argv[1]), Path(sys.argv[2])
    img.mkdir(parents=True, exist_ok=True)
    inproc(load(data / "inproc.jsonl"), img / "inproc.svg")
    servers(load(data / "servers.jsonl"), img / "servers.svg")


if __name__ == "__main__":
    main()
