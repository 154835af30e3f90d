"""``make bench``: measure reloads, embedding, answering and memory on this machine.

Each measurement runs in a fresh process (so peak memory is that of one job), and the
results are written into the README's Performance section between its markers.

    python scripts/bench.py [--no-readme]
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [ROOT / "eval" / "tune" / "colloquial.jsonl"]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# Each job prints one JSON object; `peak_rss_mb` is the process's own high-water mark.
JOB_PRELUDE = """
import json, resource, sys, time
from pathlib import Path
from bot.config import Settings
from bot.engine import PolicyBot
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
settings = Settings(data_dir=Path(sys.argv[1]), knowledge_dir=Path(sys.argv[2]))
"""

RELOAD_JOB = (
    JOB_PRELUDE
    + """
bot = PolicyBot(settings)
started = time.perf_counter()
report = bot.reload_documents()
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks,
                  "embedded": report.embedded, "rebuilt": report.rebuilt,
                  "peak_rss_mb": peak()}))
"""
)

EMBED_JOB = (
    JOB_PRELUDE
    + """
from bot.knowledge.embeddings import OnnxEmbedder
bot = PolicyBot(settings)
texts = [c.text for c in bot.index.open().chunks]
embedder = OnnxEmbedder.packaged()
embedder.embed(texts[:8])
started = time.perf_counter()
embedder.embed(texts)
elapsed = time.perf_counter() - started
query = "Can I use Facebook at lunchtime?"
times = []
for _ in range(50):
    t = time.perf_counter(); embedder.embed([query]); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"chunks_per_s": len(texts) / elapsed, "query_ms": times[25] * 1000}))
"""
)

ASK_JOB = (
    JOB_PRELUDE
    + """
questions = [json.loads(l)["question"] for f in sys.argv[3:] for l in open(f) if l.strip()]
bot = PolicyBot(settings)
bot.ask("warm up")
times = []
for _ in range(5):
    for q in questions:
        t = time.perf_counter(); bot.ask(q); times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"asks": len(times), "p50_ms": times[len(times) // 2],
                  "p95_ms": times[int(len(times) * 0.95)], "max_ms": times[-1],
                  "peak_rss_mb": peak()}))
"""
)


def job(code: str, *args: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = model.group(1).strip() if model else cpu
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, no GPU, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    knowledge = str(ROOT / "knowledge")
    questions = [str(q) for q in QUESTIONS]
    with tempfile.TemporaryDirectory() as data:
        cold = job(RELOAD_JOB, data, knowledge)
        warm = [job(RELOAD_JOB, data, knowledge)["seconds"] for _ in range(3)]
        embed = job(EMBED_JOB, data, knowledge)
        ask = job(ASK_JOB, data, knowledge, *questions)
    rows = [
        (
            f"Cold reload (5 documents, {cold['chunks']:.0f} chunks, all embedded)",
            f"{cold['seconds']:.2f} s",
        ),
        ("Reload with nothing changed (median of 3)", f"{statistics.median(warm):.2f} s"),
        ("Embedding throughput (clauses, batches of 4)", f"{embed['chunks_per_s']:.0f} chunks/s"),
        ("Embedding one short question (median)", f"{embed['query_ms']:.1f} ms"),
        (
            f"Warm ask, p50 ({ask['asks']:.0f} asks of eval/tune/colloquial.jsonl)",
            f"{ask['p50_ms']:.1f} ms",
        ),
        ("Warm ask, p95", f"{ask['p95_ms']:.1f} ms"),
        ("Peak RSS while answering", f"{ask['peak_rss_mb']:.0f} MB"),
        ("Peak RSS during a cold reload", f"{cold['peak_rss_mb']:.0f} MB"),
    ]
    table = "\n".join(
        ["| measure | result |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    )
    section = f"{START}\nMeasured by `make bench` on {machine()}:\n\n{table}\n{END}"
    print(section)
    if "--no-readme" not in sys.argv:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        if START in text and END in text:
            before, rest = text.split(START, 1)
            readme.write_text(before + section + rest.split(END, 1)[1], encoding="utf-8")


if __name__ == "__main__":
    main()
