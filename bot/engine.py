"""The answer engine: the one object every adapter asks.

:class:`PolicyBot` answers a :class:`~bot.models.Question` from the live index and reloads
the documents. It follows a reload made by another process (``policybot reload`` beside a
running server) by checking the live build's id before each answer.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from threadpoolctl import threadpool_limits

from bot.answers.answering import NOT_FOUND, Draft, confidence, draft
from bot.answers.choice import Chooser, Choosers
from bot.answers.gate import Gate, Gates
from bot.answers.keyword import KEYWORD_DIR
from bot.answers.questions import clean
from bot.answers.retrieval import Evidence, Retriever
from bot.answers.routing import Router, RoutingModel
from bot.config import Settings
from bot.conversation.follow_up import Rewriter, Understood, understand
from bot.conversation.history import Turn
from bot.conversation.rewrite import rewriter_from_settings
from bot.errors import EmbedderMismatchError, NotAuthorizedError
from bot.knowledge.documents import DocumentInfo, due_for_review, read_infos, review_notice
from bot.knowledge.embeddings import (
    Embedder,
    OnnxEmbedder,
    Vectors,
    directory_files,
    model_name,
    packaged_files,
)
from bot.knowledge.glossary import Glossary
from bot.knowledge.store import ChromaStore
from bot.llm.embeddings import openai_embedder
from bot.llm.hints import hint_writer_from_settings
from bot.llm.phrasing import LLMStats, OpenAIPhraser, phraser_from_settings
from bot.models import Answer, Escalation, LLMUsage, Question
from bot.reload.index import Build, IndexManager, Progress, StoreFactory
from bot.reload.report import ReloadReport

if TYPE_CHECKING:
    from bot.approved.match import ApprovedMatcher, Served
    from bot.ports import Phraser

log = logging.getLogger(__name__)

EMPTY = (
    "Please type a question about the Electronic Communication and Social Media Policy, "
    "for example: \u201cCan I use Facebook at lunchtime?\u201d"
)
TRUNCATED = "Your message was very long, so I answered from its first 4,000 characters."
#: Random bytes in an answer id.
ANSWER_ID_BYTES = 16
INSTRUCTIONS = "I only answer from the policy documents, so I ignored the instructions in it."


def default_embedder(settings: Settings) -> tuple[Callable[[], Embedder], Callable[[], str]]:
    """The embedder the settings ask for (made on first use), and how to name it."""
    if settings.embeddings == "openai":
        return openai_embedder(settings)
    files: Callable[[], tuple[Path, Path]] = packaged_files
    if settings.embedding_model:
        directory = Path(settings.embedding_model)
        files = lambda: directory_files(directory)  # noqa: E731
    return (lambda: OnnxEmbedder(*files())), (lambda: model_name(*files()))


def default_store(settings: Settings) -> StoreFactory:
    """Embedded Chroma inside each build, or collections on a Chroma server."""
    if settings.chroma_host:
        host, port = settings.chroma_host, settings.chroma_port
        return lambda path, build: ChromaStore.http(host, port, collection=f"policybot-{build}")
    return lambda path, build: ChromaStore.persistent(path / "chroma", collection="policybot")


@dataclass(frozen=True)
class _Live:
    """What answers a question: one build, its retriever, routing, gate and chooser."""

    build: Build
    retriever: Retriever
    router: Router
    gates: Gates
    chooser: Chooser
    #: Each document's version, owner and review date, by file name.
    documents: dict[str, DocumentInfo]

    def gate(self, evidence: Evidence) -> Gate:
        """The gate for a search: with the examples' signals when it has them."""
        return self.gates.for_build(self.build.manifest.embedder, scoped=evidence.scoped)


class PolicyBot:
    """Answers questions and reloads documents.

    Args:
        settings: the configuration.
        embedder: makes the embedder (default: from the settings).
        store_factory: makes a build's vector store (default: from the settings).
        phraser: rewrites answered drafts with a language model (default: from the
            settings; None when no model is configured).
        rewriter: rewrites follow-ups into standalone questions with a language model
            (default: from the settings; None when no model is configured).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Callable[[], Embedder] | None = None,
        store_factory: StoreFactory | None = None,
        phraser: Phraser | None = None,
        rewriter: Rewriter | None = None,
    ) -> None:
        self.settings = settings
        # A search is one matrix-vector product: numpy's BLAS threads gain nothing on it, and
        # left spinning afterwards they take the cores onnxruntime embeds the next question on
        # (measured: warm ask p50 16 → 6 ms). Answers run in parallel across requests instead.
        threadpool_limits(limits=1, user_api="blas")
        self.phraser = phraser if phraser is not None else phraser_from_settings(settings)
        self.rewriter = rewriter if rewriter is not None else rewriter_from_settings(settings)
        name: Callable[[], str] | None = None
        if embedder is None:
            embedder, name = default_embedder(settings)
        self.index = IndexManager(
            settings.index_dir,
            embedder=embedder,
            embedder_name=name,
            store_factory=store_factory or default_store(settings),
            hint_writer=hint_writer_from_settings(settings),
        )
        self._lock = threading.Lock()
        self._current: _Live | None = None
        #: Serves approved answers before the documents' own (the command line sets it; the
        #: Assistant passes its own to :meth:`ask`).
        self.approved: ApprovedMatcher | None = None

    @property
    def llm_stats(self) -> LLMStats | None:
        """Model answers used and fallbacks by reason (for ``/healthz``); None without one."""
        return self.phraser.stats if isinstance(self.phraser, OpenAIPhraser) else None

    @property
    def model_description(self) -> str:
        """Which language model words the answers, for the start-up summary."""
        if isinstance(self.phraser, OpenAIPhraser):
            config = self.phraser.config
            return f"{config.model} at {config.server} (extractive answers on any failure)"
        return "none: extractive answers"

    @property
    def knowledge_version(self) -> str:
        manifest = self.index.current_manifest()
        return manifest.knowledge_version if manifest else ""

    def live_build(self) -> Path:
        """The live build's directory (its clauses are what approved answers cite)."""
        return self._live().build.path

    def retriever(self) -> Retriever:
        """The retriever of the live build, reopened when another reload has switched it."""
        return self._live().retriever

    def search(self, text: str) -> Evidence:
        """What the live build's search sees for ``text``, as the answer gate reads it."""
        live = self._live()
        return live.router.scope(live.retriever.search(text))

    def router(self) -> Router:
        """The live build's routing."""
        return self._live().router

    def _live(self) -> _Live:
        """The live build with its retriever and routing, taken together under the lock,
        so that one answer never mixes two builds."""
        with self._lock:
            live = self.index.current_id()
            if self._current is None or self._current.build.path.name != live:
                self._switch_to(self.index.open())
            assert self._current is not None
            return self._current

    def _switch_to(self, build: Build) -> None:
        embedder = self.index.embedder
        try:
            if build.manifest.embedder != embedder.name:
                raise EmbedderMismatchError(
                    f"The index was built with {build.manifest.embedder} but the configured "
                    f"embedder is {embedder.name}: run `policybot reload` to rebuild it."
                )
            retriever = Retriever(
                build.chunks,
                store=build.store,
                embedder=embedder,
                glossary=Glossary.load(build.glossary_path),
                keyword_dir=build.path / KEYWORD_DIR,
            )
            router = Router(
                RoutingModel.load(build.routing_model_path, build.routing_examples_path)
            )
        except BaseException:
            build.store.close()
            raise
        # Answers in progress on other threads keep their snapshot of the old build; with the
        # vectors searched in memory they no longer need its store, so it is closed at once
        # (its files may already be pruned from disk by the reload).
        if self._current is not None:
            self._current.build.store.close()
        chooser = Choosers.packaged().for_embedder(embedder.name)
        documents = read_infos(build.documents_path)
        self._current = _Live(build, retriever, router, Gates.packaged(), chooser, documents)

    def ask(
        self,
        question: Question | str,
        window: Sequence[Turn] = (),
        *,
        approved: ApprovedMatcher | None = None,
    ) -> Answer:
        """Answer a question from the documents, or with a reviewer's approved answer when
        ``approved`` (default: :attr:`approved`) has one close enough; never raises for bad
        input.

        Args:
            question: the question.
            window: the conversation's earlier questions, oldest first: a follow-up is
                understood with them (:mod:`bot.conversation.follow_up`).
            approved: the approved answers to serve from.
        """
        started = time.perf_counter()
        if isinstance(question, str):
            question = Question(text=question)
        cleaned = clean(question.text)
        notices = []
        if cleaned.truncated:
            notices.append(TRUNCATED)
        if cleaned.had_instructions:
            notices.append(INSTRUCTIONS)
        # Unguessable (128 bits): an answer id is what a card's escalate button carries.
        answer_id = secrets.token_hex(ANSWER_ID_BYTES)
        if not cleaned.searchable:
            text = EMPTY if not question.text.strip() else NOT_FOUND
            return Answer(
                question=cleaned.original or question.text.strip()[:200],
                answered=False,
                text=text,
                notices=tuple(notices),
                elapsed_ms=(time.perf_counter() - started) * 1000,
                knowledge_version=self.knowledge_version,
                id=answer_id,
            )
        live = self._live()
        retriever = live.retriever
        understood = self.understand(cleaned.text, window, live)
        evidence = understood.evidence
        result = draft(
            evidence,
            resolve=retriever.resolve_reference,
            gate=live.gate(evidence),
            chooser=live.chooser,
        )
        assert evidence.vector is not None
        escalation = live.router.suggest(
            evidence.vector, evidence.hits, answered=result.answered, confidence=result.confidence
        )
        if cleaned.had_instructions:
            # A message that tries to instruct the bot is nobody's situation: no person is
            # offered for it, whatever the rest of it asks (a person can always ask again).
            escalation = Escalation()
        served = self._approved_answer(approved or self.approved, evidence, live)
        if served is not None:
            return Answer(
                question=cleaned.original,
                answered=True,
                text=served.text,
                citations=served.citations,
                escalation=escalation,
                confidence=served.ref.similarity,
                notices=tuple(notices),
                elapsed_ms=(time.perf_counter() - started) * 1000,
                knowledge_version=live.build.manifest.knowledge_version,
                id=answer_id,
                approved=served.ref,
                context_id=understood.turn.answer_id if understood.turn else "",
                searched=understood.searched if understood.turn else "",
            )
        result, usage = self._phrase(understood.searched, evidence, result)
        if result.answered and (due := self._due(live, result)):
            notices.append(review_notice(due))
        escalation = live.router.judged(result.route, escalation)
        return Answer(
            question=cleaned.original,
            answered=result.answered,
            text=result.text,
            citations=result.citations,
            escalation=escalation,
            confidence=result.confidence,
            notices=tuple(notices),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            knowledge_version=live.build.manifest.knowledge_version,
            id=answer_id,
            usage=usage,
            context_id=understood.turn.answer_id if understood.turn else "",
            searched=understood.searched if understood.turn else "",
        )

    def understand(
        self, text: str, window: Sequence[Turn], live: _Live | None = None
    ) -> Understood:
        """What a cleaned message is taken to mean in its conversation, and what the live
        build's search finds for it (see :func:`bot.conversation.follow_up.understand`)."""
        live = live or self._live()

        def search(searched: str) -> tuple[Evidence, float]:
            evidence = live.router.scope(live.retriever.search(searched))
            return evidence, confidence(evidence, live.gate(evidence))

        return understand(text, window, search, rewriter=self.rewriter)

    @staticmethod
    def _approved_answer(
        matcher: ApprovedMatcher | None, evidence: Evidence, live: _Live
    ) -> Served | None:
        """The approved answer for the question, when one is close enough (see
        :mod:`bot.approved.match`)."""
        if matcher is None or evidence.vector is None:
            return None
        retriever = live.retriever

        def embed(text: str) -> Vectors:
            vector = retriever.search(text, k=1).vector
            assert vector is not None
            return vector

        found = [(hit.chunk.source, hit.chunk.section) for hit in evidence.hits]
        return matcher.serve(evidence.vector, found, live.build.path, embed)

    def documents_due(self) -> list[DocumentInfo]:
        """The live documents that are past their review date."""
        return due_for_review(self._live().documents.values(), datetime.now(UTC).date())

    @staticmethod
    def _due(live: _Live, result: Draft) -> list[DocumentInfo]:
        """The documents an answer cites that are past their review date."""
        today = datetime.now(UTC).date()
        sources = dict.fromkeys(c.source for c in result.citations)
        infos = [live.documents[s] for s in sources if s in live.documents]
        return due_for_review(infos, today)

    def _phrase(
        self, question: str, evidence: Evidence, extractive: Draft
    ) -> tuple[Draft, LLMUsage | None]:
        """The language model's wording of an answered draft, when a model is configured.

        Only answered drafts go to the model, and only an answered draft with citations
        comes back: whether the documents cover a question stays this engine's decision.
        """
        if self.phraser is None or not extractive.answered:
            return extractive, None
        try:
            phrased, usage = self.phraser.phrase(question, evidence, extractive)
        except Exception:  # a phraser must never cost staff their answer
            log.exception("the phraser failed: answering extractively")
            return extractive, None
        if not phrased.answered or not phrased.citations:
            return extractive, usage
        return phrased, usage

    def reload_documents(
        self,
        requested_by: str | None = None,
        *,
        knowledge_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> ReloadReport:
        """Re-index the knowledge directory.

        Args:
            requested_by: the ``platform:user`` id asking, checked against the admins;
                None for the operator at the server's own command line.
            knowledge_dir: the directory to index (default: the configured one).
            progress: called with (done, total) while clauses are embedded.

        Raises:
            NotAuthorizedError: ``requested_by`` is not an admin.
        """
        if requested_by is not None and requested_by not in self.settings.admins:
            log.warning("reload refused for %s: not an admin", requested_by)
            raise NotAuthorizedError("Only PolicyBot admins can reload the policy documents.")
        report = self.index.reload(knowledge_dir or self.settings.knowledge_dir, progress=progress)
        log.info(
            "reload by %s: version %s, rebuilt=%s",
            requested_by or "operator",
            report.knowledge_version,
            report.rebuilt,
        )
        return report
