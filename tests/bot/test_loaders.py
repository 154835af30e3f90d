"""Loaders: the real corpus in knowledge/, plus small documents written to tmp_path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from bot.errors import DocumentLoadError
from bot.knowledge.loaders import (
    MAX_TEXT_CHARS,
    SUPPORTED_SUFFIXES,
    discover,
    distinct_titles,
    load_document,
)
from bot.models import Clause, Document

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
MD = "electronic-communication-and-social-media-policy.md"
HTML = "social-media-guidance-for-staff.html"
DOCX = "official-social-media-accounts-procedure.docx"
PDF = "email-and-internet-acceptable-use.pdf"
TXT = "cabinet-report-social-media-policy.txt"
STATUS = (
    "Sample document prepared from the cabinet report on the Electronic Communication and "
    "Social Media Policy. Version 1.0 (November 2026). Review date: November 2027."
)


def numbered(clauses_per_section: dict[int, int]) -> list[str]:
    """``{1: 2, 2: 1}`` -> ``["1.1", "1.2", "2.1"]``."""
    return [f"{s}.{c}" for s, count in clauses_per_section.items() for c in range(1, count + 1)]


EXPECTED_NUMBERS = {
    MD: numbered(
        {1: 4, 2: 6, 3: 5, 4: 8, 5: 9, 6: 5, 7: 6, 8: 5, 9: 6, 10: 5}
        | {11: 4, 12: 7, 13: 6, 14: 7, 15: 6, 16: 7, 17: 4, 18: 5}
    ),
    HTML: numbered({1: 2, 2: 5, 3: 7, 4: 3, 5: 3, 6: 3, 7: 3, 8: 2, 9: 4, 10: 3, 11: 3, 12: 1}),
    DOCX: numbered({1: 3, 2: 4, 3: 6, 4: 7, 5: 4, 6: 6, 7: 4, 8: 2, 9: 3, 10: 4, 11: 3, 12: 3}),
    PDF: numbered(
        {1: 2, 2: 3, 3: 6, 4: 4, 5: 6, 6: 4, 7: 5, 8: 4, 9: 4, 10: 2, 11: 3, 12: 4, 13: 3, 14: 4}
    ),
    # The main body is numbered 1.1-5.2 and the Implications appendix again from 1.1.
    TXT: "1.1 2.1 2.2 2.3 2.4 3.1 3.2 3.3 3.4 3.5 4.1 4.2 5.1 5.2".split()
    + "1.1 2.1 2.2 3.1 3.2 4.1 5.1 6.1 7.1 8.1 9.1 10.1".split(),
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    return {name: load_document(KNOWLEDGE / name) for name in EXPECTED_NUMBERS}


def clause(document: Document, number: str, occurrence: int = 0) -> Clause:
    return [c for c in document.clauses if c.number == number][occurrence]


@pytest.mark.parametrize("name", list(EXPECTED_NUMBERS))
def test_every_clause_number_is_found_in_order(corpus: dict[str, Document], name: str) -> None:
    assert [c.number for c in corpus[name].clauses] == EXPECTED_NUMBERS[name]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (MD, "Electronic Communication and Social Media Policy"),
        (HTML, "Social Media Guidance for Staff"),
        (DOCX, "Official Social Media Accounts Procedure"),
        (PDF, "Email and Internet Acceptable Use Standard"),
        (TXT, "Electronic Communication and Social Media Policy"),
    ],
)
def test_title_and_source(corpus: dict[str, Document], name: str, title: str) -> None:
    assert corpus[name].title == title
    assert corpus[name].source == name
    assert all(c.heading_path[0] == title for c in corpus[name].clauses)


@pytest.mark.parametrize("name", [MD, HTML, DOCX, PDF])
def test_status_line_is_the_preamble_not_a_clause(corpus: dict[str, Document], name: str) -> None:
    assert corpus[name].preamble == STATUS
    assert not any("Review date" in c.text for c in corpus[name].clauses)


@pytest.mark.parametrize(
    ("name", "number", "section_title"),
    [
        (MD, "4.2", "Using social media and the internet at work"),
        (MD, "18.5", "Responsibilities, promotion and review"),
        (HTML, "6.1", "Abuse and harassment online"),
        (DOCX, "3.2", "Requesting a new account"),
        (PDF, "5.4", "Junk mail, quarantine and blocked emails"),
        (PDF, "14.4", "Monitoring, breaches and review"),
    ],
)
def test_section_of_a_clause(
    corpus: dict[str, Document], name: str, number: str, section_title: str
) -> None:
    found = clause(corpus[name], number)
    assert found.section_number == number.split(".")[0]
    assert found.section_title == section_title
    assert found.title == (found.heading or section_title)
    assert found.heading_path[1] == f"{found.section_number}. {section_title}"


def test_sections_group_their_clauses(corpus: dict[str, Document]) -> None:
    sections = corpus[MD].sections
    assert [s.number for s in sections] == [str(n) for n in range(1, 19)]
    assert sections[3].title == "Using social media and the internet at work"
    assert [c.number for c in sections[3].clauses] == numbered({4: 8})


def test_clause_wording_is_kept(corpus: dict[str, Document]) -> None:
    assert clause(corpus[MD], "4.2").text == (
        "You may use social media for personal purposes in your own time, for example during "
        "your lunch break or other unpaid breaks, whether on a Council device or on your own "
        "device."
    )
    assert clause(corpus[MD], "4.2").heading_path == (
        "Electronic Communication and Social Media Policy",
        "4. Using social media and the internet at work",
    )


def test_markdown_lettered_and_listed_items_stay_in_their_clause(
    corpus: dict[str, Document],
) -> None:
    lines = clause(corpus[MD], "12.4").text.splitlines()
    assert lines[0] == "Every official account must:"
    assert lines[2] == "(b) have multi-factor authentication (MFA) switched on;"
    assert [line[:3] for line in lines[1:]] == ["(a)", "(b)", "(c)", "(d)", "(e)"]
    definitions = clause(corpus[MD], "2.4").text.splitlines()
    assert len(definitions) == 7
    assert definitions[-1] == '"working time" means any time for which you are being paid.'


def test_docx_lettered_paragraphs_stay_in_their_clause(corpus: dict[str, Document]) -> None:
    lines = clause(corpus[DOCX], "3.2").text.splitlines()
    assert [line[:3] for line in lines[1:]] == [f"({letter})" for letter in "abcdefgh"]
    assert lines[-1] == "(h) how success will be measured."


def test_pdf_clause_continues_across_a_page_break(corpus: dict[str, Document]) -> None:
    lines = clause(corpus[PDF], "10.1").text.splitlines()
    assert lines[0] == "You must not use Council email or internet access to:"
    assert [line[:3] for line in lines[1:]] == [f"({letter})" for letter in "abcdefg"]
    # (a) and (g) are wrapped over two lines in the PDF; the wrap becomes a space.
    assert lines[1].endswith("related to illegal drug use or terrorism;")
    assert lines[7] == (
        "(g) enter personal or confidential Council information into public artificial "
        "intelligence (AI) tools or other online services that the Council has not approved."
    )
    assert clause(corpus[PDF], "10.2").text.startswith("Breaching this section")


def test_pdf_wrapped_lines_are_joined(corpus: dict[str, Document]) -> None:
    assert clause(corpus[PDF], "1.1").text == (
        "This standard sets out the rules for using the Council's email system and internet "
        "access. It sits alongside the Electronic Communication and Social Media Policy, which "
        "covers social media, personal use and monitoring in more detail."
    )


@pytest.mark.parametrize("name", list(EXPECTED_NUMBERS))
def test_no_page_footer_leaks_into_a_clause(corpus: dict[str, Document], name: str) -> None:
    footer = re.compile(r"^Page \d+$|\bPage \d+\s*$", re.MULTILINE)
    assert not [c.number for c in corpus[name].clauses if footer.search(c.text)]


def test_html_question_is_the_heading_and_the_answer_the_text(
    corpus: dict[str, Document],
) -> None:
    found = clause(corpus[HTML], "6.1")
    question = "I am being abused or threatened online because of my job. What should I do?"
    assert found.heading == question
    assert found.title == question
    assert found.heading_path[-1] == f"6.1 {question}"
    lines = found.text.splitlines()
    assert lines[0] == "Follow these steps:"
    assert "Do not reply or engage." in lines
    assert "If anyone is in immediate danger, call the police on 999." in lines
    assert lines[-1].startswith("Your line manager will log an incident")


def test_cabinet_report_keeps_both_numberings_under_their_headings(
    corpus: dict[str, Document],
) -> None:
    report = corpus[TXT]
    title = "Electronic Communication and Social Media Policy"
    body, appendix = clause(report, "2.1"), clause(report, "2.1", occurrence=1)
    assert body.section_title == "RECOMMENDATION"
    assert body.heading_path == (title, "RECOMMENDATION")
    assert body.text.startswith("To adopt the new policy")
    assert appendix.section_title == "Legal"
    assert appendix.heading_path == (title, "IMPLICATIONS", "Legal")
    assert appendix.text == "There are no direct legal implications."
    assert clause(report, "4.1", occurrence=1).heading_path[1:] == ("IMPLICATIONS", "IT")


def test_cabinet_report_officers_and_contacts_are_in_no_clause(
    corpus: dict[str, Document],
) -> None:
    report = corpus[TXT]
    assert clause(report, "5.2").text.endswith("not having relevant controls and a clear policy.")
    assert not any("officer" in c.text or "@" in c.text for c in report.clauses)
    assert report.preamble == ""


def test_loading_never_changes_a_file() -> None:
    files = [p for p in KNOWLEDGE.rglob("*") if p.is_file()]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    documents, _ = discover(KNOWLEDGE, ignore={"glossary.toml", "routing.toml"})
    for path in documents:
        load_document(path)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


# --- other documents in the same formats ------------------------------------------------


def test_three_level_numbers_in_markdown(tmp_path: Path) -> None:
    path = tmp_path / "leave.md"
    path.write_text(
        "# Leave Policy\n\n## 4. Annual leave\n\n4.1 You get 25 days.\n\n"
        "4.2.1 Book leave in advance.\n\n4.2.2 Carry over up to 5 days:\n\n"
        "- (a) with approval; and\n- (b) by 31 March.\n\n"
        "### 4.3 Bank holidays\n\n4.3.1 Bank holidays are extra.\n",
        encoding="utf-8",
    )
    document = load_document(path)
    assert [c.number for c in document.clauses] == ["4.1", "4.2.1", "4.2.2", "4.3.1"]
    assert clause(document, "4.2.2").text == (
        "Carry over up to 5 days:\n(a) with approval; and\n(b) by 31 March."
    )
    # "### 4.3 ..." heads clauses of its own, so it is a section and not a question.
    bank = clause(document, "4.3.1")
    assert (bank.section_number, bank.section_title, bank.heading) == ("4.3", "Bank holidays", "")
    assert bank.heading_path == ("Leave Policy", "4. Annual leave", "4.3 Bank holidays")


def test_markdown_clauses_written_as_headings(tmp_path: Path) -> None:
    path = tmp_path / "faq.markdown"
    path.write_text(
        "# Remote Working FAQ\n\n## 3. Equipment\n\n### 3.2 Can I take my monitor home?\n\n"
        "Yes, with your manager's agreement.\n\n- Log it with the IT Service Desk.\n",
        encoding="utf-8",
    )
    found = load_document(path).clauses[0]
    assert (found.number, found.heading) == ("3.2", "Can I take my monitor home?")
    assert found.text == "Yes, with your manager's agreement.\nLog it with the IT Service Desk."
    assert found.section_title == "Equipment"


def test_docx_clauses_in_list_number_style(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_heading("Expenses Procedure", level=1)
    word.add_heading("2. Claims", level=2)
    word.add_paragraph("2.1 Claim within 3 months.", style="List Number")
    word.add_paragraph("(a) attach receipts;", style="List Bullet")
    word.add_paragraph("2.2 Mileage is paid at the HMRC rate.", style="List Number")
    word.save(str(tmp_path / "expenses.docx"))
    document = load_document(tmp_path / "expenses.docx")
    assert document.title == "Expenses Procedure"
    assert [(c.number, c.text) for c in document.clauses] == [
        ("2.1", "Claim within 3 months.\n(a) attach receipts;"),
        ("2.2", "Mileage is paid at the HMRC rate."),
    ]
    assert document.clauses[0].section_title == "Claims"


def test_hard_wrapped_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "parking.txt"
    path.write_text(
        "Staff Parking Rules\n\n1. Permits\n\n1.1 A permit is needed to park in\n"
        "the staff car park.\n(a) Apply online.\n\nSigned: Facilities Manager\n",
        encoding="utf-8",
    )
    document = load_document(path)
    assert document.title == "Staff Parking Rules"
    assert [(c.number, c.section_title) for c in document.clauses] == [("1.1", "Permits")]
    assert document.clauses[0].text == (
        "A permit is needed to park in the staff car park.\n(a) Apply online."
    )


def test_html_without_h1_takes_the_page_title(tmp_path: Path) -> None:
    path = tmp_path / "fleet.htm"
    path.write_text(
        "<html><head><title>Fleet Rules</title></head><body>"
        "<h2>1. Vehicles</h2><p>1.1 Check the tyres <b>weekly</b>.</p></body></html>",
        encoding="utf-8",
    )
    document = load_document(path)
    assert document.title == "Fleet Rules"
    assert document.clauses[0].text == "Check the tyres weekly."


def pdf_dict(entries: dict[str, object]) -> DictionaryObject:
    return DictionaryObject({NameObject(key): value for key, value in entries.items()})


def write_pdf(path: Path, pages: list[list[str]], *, title: str = "") -> None:
    """A PDF with a text layer: one line of Helvetica per string."""
    writer = PdfWriter()
    font = {"/Type": "/Font", "/Subtype": "/Type1", "/BaseFont": "/Helvetica"}
    helvetica = pdf_dict({key: NameObject(value) for key, value in font.items()})
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = pdf_dict({"/Font": pdf_dict({"/F1": helvetica})})
        shown = "".join(
            "({}) Tj T*\n".format(line.replace("(", "\\(").replace(")", "\\)")) for line in lines
        )
        stream = ContentStream(None, None)
        stream.set_data(f"BT /F1 11 Tf 14 TL 72 740 Td\n{shown}ET".encode("latin-1"))
        page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title})
    with path.open("wb") as out:
        writer.write(out)


def test_pdf_with_contents_list_and_no_title_metadata(tmp_path: Path) -> None:
    path = tmp_path / "parking.pdf"
    first_page = [
        "Draft for consultation.",
        "Staff Parking Standard",
        "1. Scope 2",  # a table of contents: its numbers start again below
        "2. Permits 3",
        "1. Scope",
        "1.1 This applies to all staff who park for",
        "2.5 hours a day or more:",  # a wrapped line, not clause 2.5
        "(a) in the main car park; and",
        "Page 1",
    ]
    write_pdf(path, [first_page, ["(b) at depots.", "2. Permits", "2.1 Apply online.", "Page 2"]])
    document = load_document(path)
    assert document.title == "Staff Parking Standard"
    assert document.preamble == "Draft for consultation."
    assert [(c.number, c.section_title) for c in document.clauses] == [
        ("1.1", "Scope"),
        ("2.1", "Permits"),
    ]
    assert document.clauses[0].text == (
        "This applies to all staff who park for 2.5 hours a day or more:\n"
        "(a) in the main car park; and\n(b) at depots."
    )


def test_pdf_title_from_metadata(tmp_path: Path) -> None:
    write_pdf(tmp_path / "a.pdf", [["Fleet Rules", "1.1 Check tyres."]], title="Fleet Rules")
    document = load_document(tmp_path / "a.pdf")
    assert (document.title, document.preamble) == ("Fleet Rules", "")


# --- files that cannot be loaded -----------------------------------------------------------


def assert_load_error(path: Path, reason: str) -> None:
    with pytest.raises(DocumentLoadError) as caught:
        load_document(path)
    assert caught.value.path == path.name
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path.name}: ")


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"this is not a pdf \x00\x01\x02" * 20)
    assert_load_error(path, "not a readable PDF")


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(b"PK\x03\x04 truncated zip")
    assert_load_error(path, "not a readable Word document")


def test_empty_docx(tmp_path: Path) -> None:
    word = docx.Document()
    assert not word.paragraphs
    word.save(str(tmp_path / "empty.docx"))
    assert_load_error(tmp_path / "empty.docx", "empty")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("blank.md", b"  \n\n", "empty"),
        ("notes.txt", b"Minutes\n\nNothing numbered here.\n", "no numbered clauses found"),
        ("policy.md", b"# Policy\n\n## 1. Scope\n\nAll staff.\n", "no numbered clauses found"),
        ("latin1.txt", b"Caf\xe9 rules\n\n1.1 Pay at the till.\n", "cannot be decoded"),
        ("binary.txt", b"\x00\x01\x02\x03 1.1 data", "binary"),
        ("sheet.xlsx", b"PK\x03\x04", "unsupported file type"),
    ],
)
def test_unloadable_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert_load_error(path, reason)


def test_missing_file(tmp_path: Path) -> None:
    assert_load_error(tmp_path / "gone.md", "file not found")


# --- discover --------------------------------------------------------------------------------


def test_discover_the_corpus() -> None:
    supported, skipped = discover(KNOWLEDGE, ignore={"glossary.toml", "routing.toml"})
    assert [p.name for p in supported] == sorted(EXPECTED_NUMBERS)
    assert skipped == []
    # Without being told, the settings files are just files of another type.
    assert [p.name for p in discover(KNOWLEDGE)[1]] == ["glossary.toml", "routing.toml"]


def test_discover_skips_unsupported_and_ignores_hidden(tmp_path: Path) -> None:
    for name in ["b.pdf", "a.md", "chart.png", "budget.xlsx", ".draft.md", "glossary.toml"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "~$a.docx").write_bytes(b"x")  # Word's lock file while a.docx is open
    (tmp_path / "archive").mkdir()
    supported, skipped = discover(tmp_path, ignore={"glossary.toml"})
    assert [p.name for p in supported] == ["a.md", "b.pdf"]
    assert [p.name for p in skipped] == ["budget.xlsx", "chart.png", "~$a.docx"]


def test_discover_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DocumentLoadError, match="not a directory"):
        discover(tmp_path / "missing")


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == {".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf"}


def test_documents_sharing_a_title_get_titles_of_their_own() -> None:
    documents, _ = discover(KNOWLEDGE, ignore={"glossary.toml", "routing.toml"})
    titles = {d.source: d.title for d in distinct_titles([load_document(p) for p in documents])}
    assert titles["electronic-communication-and-social-media-policy.md"] == (
        "Electronic Communication and Social Media Policy"
    )
    assert titles["cabinet-report-social-media-policy.txt"] == "Cabinet report social media policy"
    assert len(set(titles.values())) == len(titles)


def test_a_link_to_a_file_outside_the_knowledge_directory_is_not_a_document(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "elsewhere" / "payroll.md"
    secret.parent.mkdir()
    secret.write_text("# Payroll\n\n1.1 Salaries are secret.\n", encoding="utf-8")
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "policy.md").write_text("# Policy\n\n1.1 Be kind.\n", encoding="utf-8")
    (knowledge / "payroll.md").symlink_to(secret)
    (knowledge / "inside.md").symlink_to(knowledge / "policy.md")  # a link within is fine

    supported, skipped = discover(knowledge)

    assert [p.name for p in supported] == ["inside.md", "policy.md"]
    assert [p.name for p in skipped] == ["payroll.md"]


def test_a_file_name_that_is_not_utf8_is_skipped_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "policy.md").write_text("# Policy\n\n1.1 Be kind.\n", encoding="utf-8")
    os.close(os.open(os.fsencode(tmp_path) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))

    supported, skipped = discover(tmp_path)

    assert [p.name for p in supported] == ["policy.md"] and skipped == []


def test_plain_text_keeps_four_digit_clause_numbers_and_joins_a_long_wrapped_paragraph(
    tmp_path: Path,
) -> None:
    wrapped = "\n".join(f"line {n} of a long clause" for n in range(20_000))
    path = tmp_path / "library.txt"
    path.write_text(
        f"Library Rules\n\n1000.1 Returns are due in 14 days.\n\n1000.2 {wrapped}\n",
        encoding="utf-8",
    )
    document = load_document(path)
    assert [c.number for c in document.clauses] == ["1000.1", "1000.2"]
    text = clause(document, "1000.2").text
    assert text.startswith("line 0 of a long clause line 1") and text.endswith(
        "line 19999 of a long clause"
    )


def test_a_broken_pdf_gives_one_clear_error_and_no_pypdf_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = Path(__file__).parents[2] / "knowledge" / "email-and-internet-acceptable-use.pdf"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(shipped.read_bytes()[:3000])
    with caplog.at_level("WARNING"), pytest.raises(DocumentLoadError, match="broken.pdf"):
        load_document(broken)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_a_runaway_text_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    line = "a wrapped line of a paragraph that never ends, with no blank line after it\n"
    path = tmp_path / "dump.txt"
    path.write_text("Dump\n\n1.1 " + line * (MAX_TEXT_CHARS // len(line) + 1), encoding="utf-8")
    with pytest.raises(DocumentLoadError, match="longer than 5,000,000 characters"):
        load_document(path)
