"""What a reload of one changed document skips (issue 15): fitting the routing model again,
opening the stores of the builds it removes, and embedding a text twice.

Real reloads of the shipped documents with the real loaders and an embedded Chroma; the
embedder is the deterministic ``FakeEmbedder``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.answers.routing import MODEL_FILE, ROUTING_FILE
from bot.knowledge.store import ChromaStore
from bot.knowledge.vector_file import VECTORS_FILE
from bot.reload.routing_build import EXAMPLE_VECTORS
from tests.bot.test_index import EMBEDDED_STORE, POLICY, EmbedderFactory, Site
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The shipped documents, indexed once."""
    base = tmp_path_factory.mktemp("template")
    site = Site(base / "knowledge", base / "data")
    shutil.copytree(KNOWLEDGE, site.knowledge)
    site.reload()
    return site


@pytest.fixture
def indexed(template: Site, tmp_path: Path) -> Site:
    site = Site(tmp_path / "knowledge", tmp_path / "data")
    shutil.copytree(template.knowledge, site.knowledge, copy_function=shutil.copy2)
    shutil.copytree(template.data_dir, site.data_dir)
    return site


def live(site: Site) -> Path:
    return site.index_dir / "builds" / site.current().strip()


def reload_in_a_fresh_process(site: Site) -> set[str]:
    """Reload ``site`` in a new interpreter; the top-level modules it imported."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.engine import default_store\n"
        "from bot.config import Settings\n"
        "from bot.reload.index import IndexManager\n"
        "from tests.fakes import FakeEmbedder\n"
        "index, knowledge = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "manager = IndexManager(index, embedder=FakeEmbedder,\n"
        "                       store_factory=default_store(Settings()))\n"
        "assert manager.reload(knowledge).rebuilt\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(site.index_dir), str(site.knowledge)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(result.stdout.split())


def test_a_documents_only_reload_takes_the_routing_model_without_fitting_it(
    indexed: Site,
) -> None:
    before = live(indexed)
    indexed.edit(POLICY, "e-learning module within 3 months", "e-learning module within 2 months")

    imported = reload_in_a_fresh_process(indexed)

    after = live(indexed)
    assert after != before
    assert "sklearn" not in imported
    for name in (MODEL_FILE, EXAMPLE_VECTORS):
        assert (after / name).read_bytes() == (before / name).read_bytes()


def test_a_new_example_sentence_fits_the_routing_model_again(indexed: Site) -> None:
    before = live(indexed)
    routing = indexed.knowledge / ROUTING_FILE
    text = routing.read_text(encoding="utf-8")
    marker = "hr = ["
    assert marker in text
    routing.write_text(
        text.replace(marker, marker + '\n  "my line manager shouts at me in meetings",', 1),
        encoding="utf-8",
    )
    embedders = EmbedderFactory()

    indexed.reload(embedders)

    after = live(indexed)
    assert embedders.texts_embedded == 1  # the new sentence; the others' vectors are reused
    old_model = json.loads((before / MODEL_FILE).read_text(encoding="utf-8"))
    new_model = json.loads((after / MODEL_FILE).read_text(encoding="utf-8"))
    assert new_model["examples"] == old_model["examples"] + 1
    with np.load(after / EXAMPLE_VECTORS) as examples:
        assert len(examples["sha"]) == len(examples["vectors"])
        assert "hr" in examples["labels"].tolist()
    assert new_model["situation"] != old_model["situation"]


def test_a_changed_list_of_documents_written_for_fits_the_model_again(indexed: Site) -> None:
    before = live(indexed)
    routing = indexed.knowledge / ROUTING_FILE
    old = json.loads((before / MODEL_FILE).read_text(encoding="utf-8"))["written_for"]
    dropped = f'  "{old[-1]}",\n'
    text = routing.read_text(encoding="utf-8")
    assert dropped in text, "the shipped examples name their documents one a line"
    routing.write_text(text.replace(dropped, "", 1), encoding="utf-8")

    indexed.reload()

    model = json.loads((live(indexed) / MODEL_FILE).read_text(encoding="utf-8"))
    assert model["written_for"] == old[:-1]


def test_removed_embedded_builds_are_deleted_without_opening_their_store(
    indexed: Site,
) -> None:
    opened: list[Path] = []

    def store(path: Path, build: str) -> ChromaStore:
        made = EMBEDDED_STORE(path, build)
        connect: Callable[[], Any] = made._connect

        def recording() -> Any:
            opened.append(path)
            return connect()

        made._connect = recording
        return made

    first = live(indexed)
    for n in range(2):  # the second reload removes the first build
        indexed.append_clause(f"18.{6 + n} Test clause {n} about carrier pigeons.")
        assert indexed.manager(store_factory=store).reload(indexed.knowledge).rebuilt

    assert not first.exists()
    assert first not in opened
    assert len(indexed.builds()) == 2


def test_a_text_in_two_documents_is_embedded_once_and_both_have_its_vector(
    indexed: Site,
) -> None:
    clause = "18.6 Carrier pigeons may not be used to send council information."
    indexed.append_clause(clause)
    (indexed.knowledge / "pigeons.md").write_text(
        f"# Pigeon Policy\n\n## 18. Pigeons\n\n{clause}\n", encoding="utf-8"
    )
    embedders = EmbedderFactory()

    report = indexed.reload(embedders)

    build = indexed.manager().open()
    rows = [i for i, c in enumerate(build.chunks) if c.text == clause[5:]]
    assert len(rows) == 2 and report.embedded == 2
    assert embedders.texts_embedded == 1
    vectors = np.load(build.path / VECTORS_FILE)
    np.testing.assert_array_equal(vectors[rows[0]], vectors[rows[1]])
    np.testing.assert_array_equal(vectors[rows[0]], FakeEmbedder().embed([clause[5:]])[0])
