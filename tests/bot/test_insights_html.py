"""The insights report as one HTML page with charts, rendered in headless Chromium.

The database is seeded with known answers (counts, medians, p90) and the page is checked in
the DOM Chromium builds from it for its charts, and in a phone-wide frame for its layout.
Chromium is Debian's ``chromium`` package (CI installs it); without it these tests say why
they did not run, unless ``POLICYBOT_REQUIRE_CHROMIUM=1``, where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.ops.insights import Insights, gather
from bot.ops.insights_html import render
from tests.bot.conftest import COMMS, HR, STAFF, Backend, FakeClock
from tests.bot.test_insights import asked, by_topic, run_policybot


def seed(work: Casework, clock: FakeClock) -> None:
    """Two weeks of questions and six cases whose times are known."""
    asked(work, "a1", "facebook at lunch?", "4.2")
    asked(work, "a2", "insta at lunch?", "4.2")
    asked(work, "d1", "where do I park my car", None)
    asked(work, "d2", "can I park at the depot", None)
    clock.advance(days=7)
    asked(work, "a3", "tiktok on shift?", "4.3")
    asked(work, "d3", "best pizza near the office? ask jo.bloggs@council.gov.uk", None)
    work.feedback.record("a3", False, rater=STAFF)
    hr = [work.cases.open(CaseRequest("hr", STAFF, f"hr {n}")).id for n in range(5)]
    work.cases.open(CaseRequest("communications", STAFF, "press", anonymous=True))
    for case_id, hours in zip(hr, (1, 1, 1, 1, 6), strict=True):  # replies at 1, 2, 3, 4, 10 h
        clock.advance(hours=hours)
        work.cases.reply(case_id, "Thanks, we'll be in touch.", by=HR)
    clock.advance(hours=2)
    work.cases.resolve(hr[0], by=HR)  # resolved 12 h after it was opened
    assert work.remind() == {"communications": [work.cases.list("communications")[0].id]}


def test_the_seeded_report_has_the_known_figures(work: Casework, clock: FakeClock) -> None:
    seed(work, clock)
    report = gather(work.db, by_topic)
    assert (report.questions, report.answered) == (6, 3)
    assert report.per_week == (("2026-W10", 4), ("2026-W11", 2))
    assert report.top_clauses == (("policy.md 4.2", 2), ("policy.md 4.3", 1))
    assert [(t.count, set(t.examples)) for t in report.declined_themes] == [
        (2, {"where do I park my car", "can I park at the depot"}),
        (1, {"best pizza near the office? ask [e-mail]"}),  # pseudonymised
    ]
    hr, comms = report.teams["hr"], report.teams["communications"]
    assert (hr.cases, hr.first_reply_median, hr.first_reply_p90) == (5, 3.0, 10.0)
    assert (hr.resolution_median, hr.resolution_p90, hr.sla_breaches) == (12.0, 12.0, 0)
    assert (comms.cases, comms.first_reply_median, comms.sla_breaches) == (1, None, 1)


def test_the_page_is_self_contained_and_names_nobody(work: Casework, clock: FakeClock) -> None:
    seed(work, clock)
    page = render(gather(work.db, by_topic))
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert "<script" not in page.lower()
    # Nothing to fetch: no src or href at all, and no URL but the SVG namespaces.
    assert not re.search(r"\b(src|href)\s*=", page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    for person in (STAFF, HR, COMMS, "USTAFF", "UHR1", "jo.bloggs", "anon:"):
        assert person not in page


def test_an_empty_report_still_renders(tmp_path: Path) -> None:
    page = render(Insights(None, 0, 0, (), (), (), ()))
    assert "0 questions" in page and "No questions." in page and "<svg" not in page


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("POLICYBOT_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required here (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Headless Chromium with nothing reaching beyond this machine."""
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


#: A phone's width, in CSS pixels (Chromium's headless window is 500 at the least, so the
#: report is shown in a frame this wide).
PHONE = 360
#: A page that shows the report in a phone-wide frame and measures what the frame shows,
#: into the DOM Chromium dumps (the report itself has no script).
PROBE = (
    """<!DOCTYPE html><html><body style="margin:0">
<iframe id="phone" src="insights.html" style="width:{width}px;height:4000px;border:0"></iframe>
<script>
const frame = document.getElementById("phone");
frame.addEventListener("load", () => {
  const page = frame.contentDocument, width = frame.contentWindow.innerWidth;
  const charts = [...page.querySelectorAll("figure.chart svg")].map(svg => {
    const box = svg.getBoundingClientRect();
    const bars = [...svg.querySelectorAll("rect.rect")].map(r => r.getBoundingClientRect());
    return {id: svg.parentElement.id, left: box.left, right: box.right, height: box.height,
            bars: bars.filter(b => b.width > 0 && b.height > 0 && b.right <= width).length};
  });
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({width, page: page.documentElement.scrollWidth, charts});
  document.body.appendChild(probe);
});
</script></body></html>"""
).replace("{width}", str(PHONE))


def test_chromium_draws_every_chart(work: Casework, clock: FakeClock, tmp_path: Path) -> None:
    seed(work, clock)
    page = tmp_path / "insights.html"
    page.write_text(render(gather(work.db, by_topic)), encoding="utf-8")

    dom = BeautifulSoup(run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout, "html.parser")
    bars = {
        figure["id"]: len(figure.select("svg rect.rect"))
        for figure in dom.select("figure.chart")
        if figure.find("svg")
    }
    # A bar per week, per clause cited, per theme; HR's first reply (median and p90) and
    # resolution (median and p90); no bar for Communications, which never replied.
    assert bars == {"chart-weeks": 2, "chart-clauses": 2, "chart-themes": 2, "chart-cases": 4}
    cases = [[td.get_text() for td in tr.find_all("td")] for tr in dom.select("#cases tbody tr")]
    assert cases == [
        ["Communications team", "1", "–", "–", "–", "–", "1"],
        ["HR Advisory team", "5", "3 h", "10 h", "12 h", "12 h", "0"],
    ]


def test_on_a_phone_the_charts_fit_the_screen(
    work: Casework, clock: FakeClock, tmp_path: Path
) -> None:
    seed(work, clock)
    (tmp_path / "insights.html").write_text(render(gather(work.db, by_topic)), encoding="utf-8")
    harness = tmp_path / "phone.html"
    harness.write_text(PROBE, encoding="utf-8")
    out = run_chromium(tmp_path, "--allow-file-access-from-files", "--dump-dom", harness.as_uri())
    probe = json.loads(BeautifulSoup(out.stdout, "html.parser").select_one("#probe").get_text())
    assert probe["width"] == PHONE
    assert probe["page"] <= PHONE  # nothing makes the page scroll sideways
    drawn = {chart["id"]: chart["bars"] for chart in probe["charts"]}
    assert drawn == {"chart-weeks": 2, "chart-clauses": 2, "chart-themes": 2, "chart-cases": 4}
    for chart in probe["charts"]:  # each chart shrinks to the screen, and is still drawn
        assert 0 <= chart["left"] and chart["right"] <= PHONE and chart["height"] > 100


def test_the_command_writes_the_html_report(database: Backend) -> None:
    code, out, err = run_policybot(database, "insights", "--format", "html")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and "0 questions" in out
    code, _, err = run_policybot(database, "insights", "--format", "pdf")
    assert code == 1 and "use md, json or html" in err
