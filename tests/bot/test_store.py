"""The Chroma vector store, embedded and against a real ``chroma run`` server.

The store tests run twice: on an embedded (persistent) store in a temporary directory and,
marked ``server``, on a collection of a Chroma server started once for this module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import KnowledgeStoreError
from bot.knowledge.store import ChromaStore
from bot.models import Chunk
from tests.fakes import FakeEmbedder
from tests.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
POLICY = "electronic-communication-and-social-media-policy.md"
SERVER_START_TIMEOUT = 30.0

CHUNKS = [
    Chunk(
        id="policy.md#4.2",
        source="policy.md",
        document_title="Social Media Policy",
        section="4.2",
        title="Personal use",
        text="You may use personal social media at lunchtime and in other breaks.",
        heading_path=("Social Media Policy", "4. Personal use"),
    ),
    Chunk(
        id="policy.md#2.4/1",
        source="policy.md",
        document_title="Social Media Policy",
        section="2.4",
        title="Scope",
        text="The policy also covers agency workers, contractors and volunteers.",
        part=1,
        heading_path=("Social Media Policy", "2. Scope"),
    ),
    Chunk(
        id="guidance.html#6.1",
        source="guidance.html",
        document_title="Guidance for Staff",
        section="6.1",
        title="Can I say where I work?",
        text="Yes, but make clear that your views are your own, not the Council\u2019s.",
        heading_path=("Guidance for Staff", "6. Questions", "Can I say where I work?"),
    ),
    Chunk(
        id="email.pdf#5.3",
        source="email.pdf",
        document_title="Email and Internet Acceptable Use",
        section="5.3",
        title="Data breaches",
        text="Report personal data sent to the wrong recipient to Information Governance.",
    ),
    Chunk(
        id="procedure.docx#10.1",
        source="procedure.docx",
        document_title="Official Accounts Procedure",
        section="10.1",
        title="Carrier pigeons",
        text="Carrier pigeons may not be used to deliver official Council correspondence.",
        heading_path=("Official Accounts Procedure", "10. Pigeons"),
    ),
]


def vectors_of(chunks: list[Chunk]) -> np.ndarray:
    return FakeEmbedder().embed([c.text for c in chunks])


# --- a real Chroma server -------------------------------------------------------------


@dataclass
class ChromaServer:
    """A ``chroma run`` process on 127.0.0.1, its output in ``log``."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path
    host: str = "127.0.0.1"

    def store(self, collection: str) -> ChromaStore:
        return ChromaStore.http(self.host, self.port, collection=collection)

    def collections(self) -> set[str]:
        return set(self.store("listing-only").list_collections())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _heartbeat(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1
        ) as response:
            return response.status == 200 and "nanosecond heartbeat" in json.load(response)
    except (OSError, ValueError):  # refused while starting, or a half-written reply
        return False


def start_chroma_server(directory: Path) -> ChromaServer:
    """Start ``chroma run`` (the CLI beside this interpreter) and wait for its heartbeat."""
    executable = Path(sys.executable).parent / "chroma"
    if not executable.is_file():
        pytest.fail(f"the chroma CLI is not installed at {executable}")
    port = free_port()
    log = directory / "chroma.log"
    with log.open("wb") as output:  # a file, not a pipe: the server logs every request
        process = subprocess.Popen(
            [str(executable), "run", "--path", str(directory / "data")]
            + ["--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ChromaServer(port, process, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not _heartbeat(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"chroma run did not answer its heartbeat on port {port}:\n{tail}")
        time.sleep(0.1)  # polling the server's start-up, not timing the test
    return server


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = start_chroma_server(tmp_path_factory.mktemp("chroma-server"))
    try:
        yield server
    finally:
        server.stop()


# --- the same store tests, embedded and on the server -----------------------------------

StoreFactory = Callable[[], ChromaStore]


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes handles on one fresh collection (a new handle each call, same collection)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        path = tmp_path / "chroma"

        def make() -> ChromaStore:
            return ChromaStore.persistent(path, collection=name)
    else:
        server: ChromaServer = request.getfixturevalue("chroma_server")

        def make() -> ChromaStore:
            return server.store(name)

    yield make
    make().drop()


@pytest.fixture
def store(make_store: StoreFactory) -> ChromaStore:
    """A created collection holding ``CHUNKS``."""
    store = make_store()
    store.create()
    store.add(CHUNKS, vectors_of(CHUNKS))
    return store


def test_count_is_the_number_of_chunks_added(store: ChromaStore) -> None:
    assert store.count() == len(CHUNKS)


def test_query_returns_the_best_match_first_with_cosine_similarity(store: ChromaStore) -> None:
    question = FakeEmbedder().embed(["Can carrier pigeons deliver Council correspondence?"])[0]

    found = store.query(question, 3)

    assert found[0][0] == "procedure.docx#10.1"
    similarities = [similarity for _, similarity in found]
    assert len(found) == 3
    assert similarities == sorted(similarities, reverse=True)
    assert all(-1.0 - 1e-5 <= s <= 1.0 + 1e-5 for s in similarities)


def test_a_chunks_own_vector_has_similarity_one(store: ChromaStore) -> None:
    vectors = vectors_of(CHUNKS)

    best_id, similarity = store.query(vectors[2], 1)[0]

    assert best_id == CHUNKS[2].id
    assert similarity == pytest.approx(1.0, abs=1e-4)


def test_k_larger_than_the_collection_returns_every_chunk(store: ChromaStore) -> None:
    found = store.query(vectors_of(CHUNKS)[0], 50)

    assert sorted(cid for cid, _ in found) == sorted(c.id for c in CHUNKS)


def test_an_empty_collection_answers_no_matches(make_store: StoreFactory) -> None:
    store = make_store()
    store.create()

    assert store.count() == 0
    assert store.query(vectors_of(CHUNKS)[0], 5) == []


def test_load_round_trips_every_chunk_field_and_vector(store: ChromaStore) -> None:
    store.texts = {c.id: c.text for c in CHUNKS}  # kept beside the store, in chunks.json

    chunks, vectors = store.load()

    assert sorted(chunks, key=lambda c: c.id) == sorted(CHUNKS, key=lambda c: c.id)
    expected = dict(zip([c.id for c in CHUNKS], vectors_of(CHUNKS), strict=True))
    assert vectors.shape == (len(CHUNKS), FakeEmbedder.dimension)
    for chunk, vector in zip(chunks, vectors, strict=True):
        np.testing.assert_allclose(vector, expected[chunk.id], atol=1e-6)


def test_the_store_keeps_no_clause_texts(store: ChromaStore, make_store: StoreFactory) -> None:
    chunks, _ = make_store().load()  # a handle that was not told the texts

    assert sorted(c.id for c in chunks) == sorted(c.id for c in CHUNKS)
    assert {c.text for c in chunks} == {""}


def test_a_new_handle_on_the_same_collection_sees_the_data(
    store: ChromaStore, make_store: StoreFactory
) -> None:
    store.close()

    reopened = make_store()

    assert reopened.count() == len(CHUNKS)
    assert reopened.query(vectors_of(CHUNKS)[3], 1)[0][0] == CHUNKS[3].id


def test_create_replaces_a_leftover_collection(store: ChromaStore) -> None:
    store.create()

    assert store.count() == 0


def test_drop_removes_the_collection(store: ChromaStore, make_store: StoreFactory) -> None:
    assert store.name in store.list_collections()

    store.drop()

    assert store.name not in store.list_collections()
    with pytest.raises(KnowledgeStoreError, match=store.name):
        make_store().count()
    store.drop()  # dropping an absent collection is not an error


def test_using_a_collection_that_was_never_created_raises_knowledge_store_error(
    make_store: StoreFactory,
) -> None:
    with pytest.raises(KnowledgeStoreError, match="missing"):
        make_store().query(vectors_of(CHUNKS)[0], 3)


def test_an_embedded_store_is_readable_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    writer = ChromaStore.persistent(path, collection="policybot")
    writer.create()
    writer.add(CHUNKS, vectors_of(CHUNKS))
    writer.close()
    query = vectors_of(CHUNKS)[4].tolist()
    script = (
        "import json, sys\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from bot.knowledge.store import ChromaStore\n"
        "store = ChromaStore.persistent(Path(sys.argv[1]), collection='policybot')\n"
        "found = store.query(np.asarray(json.loads(sys.argv[2]), dtype=np.float32), 2)\n"
        "print(json.dumps({'count': store.count(), 'best': found[0][0]}))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(path), json.dumps(query)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"count": len(CHUNKS), "best": CHUNKS[4].id}


# --- an unreachable server ------------------------------------------------------------


@pytest.mark.parametrize(
    "use",
    [
        pytest.param(lambda s: s.create(), id="create"),
        pytest.param(lambda s: s.count(), id="count"),
        pytest.param(lambda s: s.query(vectors_of(CHUNKS)[0], 3), id="query"),
        pytest.param(lambda s: s.add(CHUNKS, vectors_of(CHUNKS)), id="add"),
        pytest.param(lambda s: s.load(), id="load"),
        pytest.param(lambda s: s.list_collections(), id="list_collections"),
    ],
)
def test_a_server_nobody_listens_on_raises_knowledge_store_error(
    use: Callable[[ChromaStore], object],
) -> None:
    port = free_port()
    store = ChromaStore.http("127.0.0.1", port, collection="policybot-unreachable")

    with pytest.raises(KnowledgeStoreError, match=f"127.0.0.1:{port}"):
        use(store)


def test_a_reload_against_an_unreachable_server_changes_nothing(
    knowledge: Path, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=knowledge,
        chroma_host="127.0.0.1",
        chroma_port=free_port(),
    )
    bot = PolicyBot(settings, embedder=FakeEmbedder)

    with pytest.raises(KnowledgeStoreError, match="unreachable"):
        bot.reload_documents()

    assert bot.index.current_id() is None
    assert list((settings.index_dir / "builds").glob("*")) == []


@pytest.mark.server
def test_a_server_that_stops_after_connecting_raises_knowledge_store_error(
    tmp_path: Path,
) -> None:
    server = start_chroma_server(tmp_path)
    try:
        store = server.store("policybot-goes-away")
        store.create()
        store.add(CHUNKS, vectors_of(CHUNKS))
    finally:
        server.stop()

    with pytest.raises(KnowledgeStoreError):
        store.query(vectors_of(CHUNKS)[0], 3)


# --- PolicyBot in server mode ---------------------------------------------------------


def append_clause(knowledge: Path, clause: str) -> None:
    policy = knowledge / POLICY
    policy.write_text(policy.read_text(encoding="utf-8") + f"\n{clause}\n", encoding="utf-8")


@pytest.mark.server
def test_policybot_reloads_and_answers_through_a_chroma_server(
    chroma_server: ChromaServer, knowledge: Path, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=knowledge,
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
    )
    bot = PolicyBot(settings, embedder=lambda: FakeEmbedder())
    before = chroma_server.collections()

    first = bot.reload_documents()
    answer = bot.ask("Can I use Facebook at lunchtime?")

    assert answer.answered and answer.citations
    assert answer.knowledge_version == first.knowledge_version
    first_build = bot.index.current_id()
    assert chroma_server.collections() - before == {f"policybot-{first_build}"}
    assert not (settings.index_dir / "builds" / str(first_build) / "chroma").exists()

    append_clause(knowledge, "18.6 A new test clause about carrier pigeons.")
    second = bot.reload_documents()
    answer = bot.ask("Can I send messages by carrier pigeon?")

    assert (second.embedded, second.reused) == (1, first.chunks)  # vectors reused via server
    assert answer.knowledge_version == second.knowledge_version != first.knowledge_version
    assert "18.6" in [c.section for c in answer.citations]
    second_build = bot.index.current_id()
    assert chroma_server.collections() - before == {
        f"policybot-{first_build}",
        f"policybot-{second_build}",
    }

    append_clause(knowledge, "18.7 Another test clause about homing owls.")
    bot.reload_documents()

    # The first build is pruned: only the live and the previous build keep a collection.
    assert chroma_server.collections() - before == {
        f"policybot-{second_build}",
        f"policybot-{bot.index.current_id()}",
    }
