"""``make bench-scale``: how PolicyBot grows with the library, at 1x, 10x and 80x.

For each scale a synthetic library (``scripts/synthetic_library.py``: the shipped documents
and renamed, lightly varied copies) is indexed from nothing, then measured: cold reload, a
reload with one document changed, a reload with nothing changed, embedding throughput, warm
answers in one process (p50/p95), the memory of a process that answers, the reload's peak
memory, and how long a one-question ``policybot ask`` takes. Every figure comes from a fresh
process, so that memory and start-up are those of the one job.

    python scripts/bench_scale.py [--scales 1,10,80] [--rounds 3] [--json] [--keep DIR]

The machine's load average is reported beside the figures: on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import machine  # noqa: E402
from synthetic_library import write_library  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "tune" / "colloquial.jsonl"
ONE_SHOT_QUESTION = "Can I use Facebook at lunchtime?"
#: A numbered clause of a plain-text or Markdown document ("4.2 Staff ...", "- 1.1 The ...").
CLAUSE_LINE = re.compile(r"^\s*(?:[-*]\s+)?\d+\.\d+\s+\S")
CORES = os.cpu_count() or 1
#: Texts timed for embedding throughput, spread evenly over the library (the figure is per
#: chunk, whatever the scale).
EMBED_SAMPLE = 512

PRELUDE = """
import json, resource, sys, time
from pathlib import Path
from bot.config import Settings
from bot.engine import PolicyBot
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
settings = Settings(data_dir=Path(sys.argv[1]), knowledge_dir=Path(sys.argv[2]))
"""

RELOAD_JOB = (
    PRELUDE
    + """
bot = PolicyBot(settings)
started, cpu = time.perf_counter(), time.process_time()
report = bot.reload_documents()
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks,
                  "cpu_s": time.process_time() - cpu,
                  "documents": len(report.documents), "embedded": report.embedded,
                  "parsed": report.parsed, "rebuilt": report.rebuilt, "peak_rss_mb": peak()}))
"""
)

EMBED_JOB = (
    PRELUDE
    + """
from bot.reload.index import embedding_text
bot = PolicyBot(settings)
# What a reload embeds, spread over the whole library: the first documents' clauses are
# shorter than the average (36 tokens against 49 at 80x), and cost a third less.
chunks = bot.index.open().chunks
texts = [embedding_text(c) for c in chunks[:: max(1, len(chunks) // int(sys.argv[3]))]]
texts = texts[: int(sys.argv[3])]
embedder = bot.index.embedder
embedder.embed(texts[:8])
started, cpu = time.perf_counter(), time.process_time()
embedder.embed(texts)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"chunks_per_s": len(texts) / elapsed,
                  "ms_per_chunk": elapsed * 1000 / len(texts),
                  "cpu_ms_per_chunk": cpu * 1000 / len(texts)}))
"""
)

ASK_JOB = (
    PRELUDE
    + """
questions = [json.loads(l)["question"] for l in open(sys.argv[3]) if l.strip()]
bot = PolicyBot(settings)
started = time.perf_counter()
bot.ask("warm up")
first = time.perf_counter() - started
times, cpus = [], []
for _ in range(int(sys.argv[4])):
    for q in questions:
        t, c = time.perf_counter(), time.process_time(); bot.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
times.sort(); cpus.sort()
print(json.dumps({"asks": len(times), "p50_ms": times[len(times) // 2],
                  "p95_ms": times[int(len(times) * 0.95)], "first_ask_s": first,
                  "cpu_p50_ms": cpus[len(cpus) // 2], "cpu_p95_ms": cpus[int(len(cpus) * 0.95)],
                  "rss_mb": rss(), "peak_rss_mb": peak()}))
"""
)


def job(code: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh Python process; its last output line is JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0:
        raise SystemExit(f"a benchmark job failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def one_shot(data: Path, knowledge: Path, runs: int) -> tuple[float, float]:
    """The median wall time and CPU time (user and system) of ``policybot ask QUESTION`` as
    a user runs it."""
    env = {**os.environ, "POLICYBOT_DATA_DIR": str(data), "POLICYBOT_KNOWLEDGE_DIR": str(knowledge)}
    command = [str(Path(sys.executable).parent / "policybot"), "ask", ONE_SHOT_QUESTION]
    times, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times), statistics.median(cpus)


def change_one_document(knowledge: Path) -> str:
    """Edit one clause of a Markdown (else text) document, as an admin would, in place."""
    plain = [p for p in knowledge.iterdir() if p.suffix in {".md", ".txt"}]
    target = min(plain, key=lambda p: (p.suffix != ".md", p.name))
    lines = target.read_text(encoding="utf-8").split("\n")
    index = next(i for i, line in enumerate(lines) if CLAUSE_LINE.match(line))
    lines[index] += " This clause was revised at the last review."
    target.write_text("\n".join(lines), encoding="utf-8")
    return target.name


def measure(scale: int, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one scale, in a library and data directory under ``work``."""
    knowledge, data = work / f"library-{scale}x", work / f"data-{scale}x"
    shutil.rmtree(knowledge, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    write_library(knowledge, scale, documents=options.documents)
    runs = options.runs
    args = (str(data), str(knowledge))
    load_before = os.getloadavg()[0]
    cold = job(RELOAD_JOB, *args)
    unchanged = [job(RELOAD_JOB, *args)["seconds"] for _ in range(runs)]
    changed_name = change_one_document(knowledge)
    changed = job(RELOAD_JOB, *args)
    embed = job(EMBED_JOB, *args, str(EMBED_SAMPLE))
    ask = job(ASK_JOB, *args, str(QUESTIONS), str(options.rounds))
    one_shot_s, one_shot_cpu_s = one_shot(data, knowledge, runs)
    return {
        "scale": scale,
        "documents": cold["documents"],
        "chunks": cold["chunks"],
        "cold_reload_s": cold["seconds"],
        "cold_reload_cpu_s": cold["cpu_s"],
        "cold_embedded": cold["embedded"],
        "reload_peak_rss_mb": cold["peak_rss_mb"],
        "changed_reload_s": changed["seconds"],
        "changed_reload_cpu_s": changed["cpu_s"],
        "changed_document": changed_name,
        "changed_parsed": changed["parsed"],
        "changed_embedded": changed["embedded"],
        "unchanged_reload_s": statistics.median(unchanged),
        "embed_chunks_per_s": embed["chunks_per_s"],
        "embed_ms_per_chunk": embed["ms_per_chunk"],
        "embed_cpu_ms_per_chunk": embed["cpu_ms_per_chunk"],
        # The physical floor of a cold reload: embedding every chunk on every core.
        "cold_reload_floor_s": cold["chunks"] * embed["cpu_ms_per_chunk"] / 1000 / CORES,
        "ask_p50_ms": ask["p50_ms"],
        "ask_p95_ms": ask["p95_ms"],
        "ask_cpu_p50_ms": ask["cpu_p50_ms"],
        "ask_cpu_p95_ms": ask["cpu_p95_ms"],
        "asks": ask["asks"],
        "serving_rss_mb": ask["rss_mb"],
        "serving_peak_rss_mb": ask["peak_rss_mb"],
        "one_shot_ask_s": one_shot_s,
        "one_shot_ask_cpu_s": one_shot_cpu_s,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


ROWS = (
    ("documents", "documents", "{:.0f}"),
    ("chunks", "chunks", "{:,.0f}"),
    ("cold reload", "cold_reload_s", "{:.1f} s"),
    ("  its CPU time", "cold_reload_cpu_s", "{:.1f} s"),
    ("reload, one document changed", "changed_reload_s", "{:.2f} s"),
    ("  its CPU time", "changed_reload_cpu_s", "{:.2f} s"),
    ("  documents parsed / chunks embedded", None, ""),
    ("reload, nothing changed", "unchanged_reload_s", "{:.2f} s"),
    ("embedding throughput", "embed_chunks_per_s", "{:.0f} chunks/s"),
    ("embedding CPU per chunk", "embed_cpu_ms_per_chunk", "{:.1f} ms"),
    ("floor: embedding every chunk on every core", "cold_reload_floor_s", "{:.1f} s"),
    ("warm ask p50 / p95", None, ""),
    ("  CPU time p50 / p95", None, ""),
    ("RSS of a process answering", "serving_rss_mb", "{:.0f} MB"),
    ("peak RSS while reloading", "reload_peak_rss_mb", "{:.0f} MB"),
    ("one-question `policybot ask`", "one_shot_ask_s", "{:.2f} s"),
    ("  its CPU time", "one_shot_ask_cpu_s", "{:.2f} s"),
    ("load average (start, end)", None, ""),
)


def cell(label: str, key: str | None, fmt: str, result: dict[str, Any]) -> str:
    if key is not None:
        return fmt.format(result[key])
    if label.startswith("warm ask"):
        return f"{result['ask_p50_ms']:.1f} / {result['ask_p95_ms']:.1f} ms"
    if label.strip().startswith("CPU time p50"):
        return f"{result['ask_cpu_p50_ms']:.1f} / {result['ask_cpu_p95_ms']:.1f} ms"
    if label.startswith("load"):
        return " / ".join(f"{x:.1f}" for x in result["load_average"])
    return f"{result['changed_parsed']} / {result['changed_embedded']}"


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, one column per scale."""
    head = "| measure | " + " | ".join(f"{r['scale']}x" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for label, key, fmt in ROWS:
        values = " | ".join(cell(label, key, fmt, r) for r in results)
        lines.append(f"| {label} | {values} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,80", help="comma-separated, e.g. 1,10")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the short timings")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    parser.add_argument("--keep", type=Path, help="build the libraries here and keep them")
    parser.add_argument(
        "--documents", type=int, help="copy only the first N shipped documents (a quick run)"
    )
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as scratch:
        work = args.keep or Path(scratch)
        results = [measure(scale, work, args) for scale in scales]
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}, indent=2))
    else:
        print(f"Measured by `make bench-scale` on {machine()}:\n\n{table(results)}")
    return results


if __name__ == "__main__":
    main()
