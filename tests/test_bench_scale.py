"""``make bench-scale`` (issue 15): the synthetic library it builds, and its report.

Timings are only reported, never asserted: these tests check what is measured and that
the library reads like the shipped one.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from bot.knowledge.chunking import chunk_document
from bot.knowledge.loaders import discover, load_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_library import shipped_documents, write_library  # noqa: E402

SETTINGS = {"glossary.toml", "routing.toml", "documents.toml"}


def test_each_copy_reads_like_its_original_with_its_own_content(tmp_path: Path) -> None:
    written = write_library(tmp_path, 3)

    assert len(written) == 3 * len(shipped_documents())
    files, skipped = discover(tmp_path, ignore=SETTINGS)
    assert skipped == [] and len(files) == len(written)
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in files}) == len(files)
    for original in shipped_documents():
        shipped = load_document(original)
        for copy in (1, 2):
            path = tmp_path / f"{original.stem}-library-{copy:03d}{original.suffix}"
            document = load_document(path)
            assert [c.number for c in document.clauses] == [c.number for c in shipped.clauses]
            assert document.clauses != shipped.clauses  # lightly varied, not identical
            assert len(chunk_document(document)) >= len(chunk_document(shipped))
    # The shipped settings come along; the shipped files themselves are only read.
    assert (tmp_path / "routing.toml").read_bytes() == (
        ROOT / "knowledge/routing.toml"
    ).read_bytes()
    assert (tmp_path / "hints").is_dir()


def test_a_small_run_reports_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench_scale.py"),
            "--scales",
            "2",
            "--documents",
            "1",
            "--rounds",
            "1",
            "--runs",
            "1",
            "--json",
            "--keep",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert "cores" in report["machine"]
    [figures] = report["results"]
    assert figures["scale"] == 2 and figures["documents"] == 2
    assert figures["chunks"] == figures["cold_embedded"] > 0
    # One clause of one document changed: that document alone is parsed, one chunk embedded.
    assert (figures["changed_parsed"], figures["changed_embedded"]) == (1, 1)
    for key in (
        "cold_reload_s",
        "cold_reload_cpu_s",
        "changed_reload_s",
        "changed_reload_cpu_s",
        "unchanged_reload_s",
        "embed_chunks_per_s",
        "embed_ms_per_chunk",
        "embed_cpu_ms_per_chunk",
        "cold_reload_floor_s",
        "ask_p50_ms",
        "ask_p95_ms",
        "ask_cpu_p50_ms",
        "ask_cpu_p95_ms",
        "serving_rss_mb",
        "reload_peak_rss_mb",
        "one_shot_ask_s",
        "one_shot_ask_cpu_s",
    ):
        assert figures[key] > 0, key
    assert figures["ask_p50_ms"] <= figures["ask_p95_ms"]
    assert figures["ask_cpu_p50_ms"] <= figures["ask_cpu_p95_ms"]
    assert figures["asks"] > 0
