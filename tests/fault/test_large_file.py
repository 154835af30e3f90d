"""A huge plain-text file in ``knowledge/``: the reload finishes, in time linear in its size.

The file is the worst case the plain-text reader met: one paragraph of wrapped lines with no
blank line, after one real clause. A 4 MB file is indexed (its clause answers). A 5 MB and a
50 MB file are read through, then refused for being over 5,000,000 characters, naming the
file, while the index before them keeps answering. The times of the 5 MB and 50 MB reloads
are printed (the reader is linear: about ten times the time for ten times the size); nothing
is asserted against the clock.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.adapters.slack.fake_slack import FakeSlack
from tests.fault.conftest import ADMIN_TOKEN, ROOT, Served, responding, start

pytestmark = pytest.mark.fault

LINE = "and the text goes on without a blank line, as a report saved from a word processor\n"
MB = 1024 * 1024


def write_report(path: Path, size: int) -> None:
    """A title, one numbered clause, then ``size`` bytes of one wrapped paragraph."""
    head = "Huge Committee Report\n\n1.1 Officers must keep this report on the intranet.\n\n"
    repeats = size // len(LINE) + 1
    with path.open("w", encoding="utf-8") as handle:
        handle.write(head)
        handle.write("This paragraph starts here " + LINE)
        for _ in range(repeats // 1000):
            handle.write(LINE * 1000)


async def reload(served: Served) -> tuple[float, int, dict[str, object]]:
    """POST /admin/reload; the seconds it took, its status and its report."""
    began = time.perf_counter()
    url = served.instance.url + "/admin/reload"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with served.session.post(url, headers=headers, timeout=None) as response:
        body = await response.json()
        return time.perf_counter() - began, response.status, body


async def test_a_50_mb_text_file_is_reloaded_in_linear_time(
    serving: tuple[dict[str, str], list[Served]],
    fake_slack: FakeSlack,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    env, _ = serving
    env["POLICYBOT_KNOWLEDGE_DIR"] = str(knowledge)
    served = await start(serving, fake_slack, data_dir, tmp_path / "serve.log")
    assert (await responding(served))[0] == 200
    huge = knowledge / "huge-report.txt"

    write_report(huge, 4 * MB)
    indexed, status, report = await reload(served)
    assert status == 200 and "huge-report.txt" in str(report), report
    answer, _ = await served.ask("Where must officers keep the huge committee report?")
    assert "intranet" in answer.text

    times = {}
    for size in (5, 50):
        write_report(huge, size * MB)
        times[size], status, report = await reload(served)
        assert status == 422, report
        assert "huge-report.txt" in str(report["error"]) and "longer than" in str(report["error"])
        answer, _ = await served.ask("Where must officers keep the huge committee report?")
        assert "intranet" in answer.text  # the index before it keeps answering
    print(
        f"\nreload with a 4 MB text file (indexed) {indexed:.1f} s; with 5 MB {times[5]:.1f} s "
        f"and 50 MB {times[50]:.1f} s, each read through and refused "
        f"({times[50] / times[5]:.1f}x the time for 10x the size)"
    )
