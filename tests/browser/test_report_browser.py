"""The report in a real browser: no console errors, no network, sorting/filtering/search by clicking,
everything visible without JavaScript, hostile strings inert, no serious axe-core violation, a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HOSTILE_TEXT = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "{{7*7}}"]


def _open(browser: Any, page_file: Path) -> tuple[Any, dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page = browser.new_page()
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    return page, seen


def _visible_rows(table: Any) -> int:
    return int(table.evaluate("t => Array.from(t.tBodies[0].rows).filter(r => !r.hidden).length"))


def _column(table: Any, index: int) -> list[str]:
    return list(table.evaluate(
        "(t, i) => Array.from(t.tBodies[0].rows).map(r => r.cells[i].getAttribute('data-sort') ?? "
        "r.cells[i].textContent.trim())", index))


def test_loads_without_console_errors_or_network_requests(browser: Any, report_html: Path, artifacts: Path) -> None:
    page, seen = _open(browser, report_html)
    assert seen["console"] == [] and seen["errors"] == []
    assert seen["requests"] == [report_html.as_uri()]
    assert page.locator("table.data").count() >= 6 and page.locator(".controls").count() >= 6
    shot = artifacts / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_sort_by_clicking_a_header(browser: Any, report_html: Path) -> None:
    page, _ = _open(browser, report_html)
    table = page.locator("table[aria-label='Drift details']")
    ages = 7
    page.locator("table[aria-label='Drift details'] thead button", has_text="Age (days)").click()
    ascending = [float(v) for v in _column(table, ages)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert page.locator("table[aria-label='Drift details'] th[aria-sort='ascending']").count() == 1
    page.locator("table[aria-label='Drift details'] thead button", has_text="Age (days)").click()
    assert [float(v) for v in _column(table, ages)] == sorted(ascending, reverse=True)
    page.locator("table[aria-label='Drift details'] thead button", has_text="Resource").click()
    resources = _column(table, 1)
    assert resources == sorted(resources, key=lambda s: s.lower()) or resources == sorted(resources)


def test_search_and_filter_by_typing_and_choosing(browser: Any, report_html: Path) -> None:
    page, _ = _open(browser, report_html)
    table = page.locator("table[aria-label='Drift details']")
    total = _visible_rows(table)
    assert total == 4
    search = page.get_by_role("searchbox", name="Search Drift details")
    search.fill("idle_timeout")
    assert _visible_rows(table) == 1
    assert "1 of 4 rows" in page.locator(".controls", has=search).inner_text()
    search.fill("")
    page.get_by_role("combobox", name="Filter by Kind").select_option("missing")
    assert _visible_rows(table) == 1 and "missing" in table.locator("tbody tr:not([hidden])").inner_text()
    page.get_by_role("combobox", name="Filter by Kind").select_option("")
    assert _visible_rows(table) == total
    controls = page.locator("table[aria-label='Controls']")
    page.get_by_role("combobox", name="Filter by Status").nth(1).select_option("UNKNOWN")
    assert _visible_rows(controls) == 1


@pytest.mark.parametrize("browser", [{"java_script_enabled": False}], indirect=True)
def test_without_javascript_everything_is_visible(browser: Any, report_html: Path) -> None:
    page, seen = _open(browser, report_html)
    assert page.locator(".controls").count() == 0  # nothing added: the page is as written
    rows = page.locator("tbody tr")
    assert rows.count() > 20
    for i in range(rows.count()):
        assert rows.nth(i).is_visible()
    for section in ("summary", "changes", "scope", "drift", "controls", "frameworks", "exceptions", "method"):
        assert page.locator(f"#{section}").is_visible()
    assert page.locator("#rule-CW-01 .passed").is_visible()
    assert seen["requests"] == [report_html.as_uri()]


def test_hostile_strings_are_inert(browser: Any, report_html: Path) -> None:
    page, seen = _open(browser, report_html)
    page.get_by_role("searchbox", name="Search Drift details").fill("<script>")
    page.get_by_role("searchbox", name="Search Drift details").fill("")
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert page.locator("img").count() == 0 and page.locator("body script").count() == 1
    assert page.evaluate("() => Array.from(document.querySelectorAll('*')).filter(e => "
                         "Array.from(e.attributes).some(a => a.name.startsWith('on'))).length") == 0
    text = page.locator("main").inner_text()
    for hostile in HOSTILE_TEXT:
        assert hostile in text
    assert "49" not in page.locator("#drift").inner_text().replace("2026-", "")


@pytest.mark.parametrize("browser", [{"bypass_csp": True}], indirect=True)
@pytest.mark.parametrize("which", ["report_html", "health_html"])
def test_no_serious_or_critical_accessibility_violations(browser: Any, which: str, axe_source: str,
                                                         request: pytest.FixtureRequest) -> None:
    page, seen = _open(browser, request.getfixturevalue(which))
    assert seen["console"] == [] and seen["errors"] == []
    page.evaluate(axe_source)  # the page's CSP admits only its own script: this context bypasses it for axe
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert result["testEngine"]["name"] == "axe-core"


def test_prints_readably(browser: Any, report_html: Path, artifacts: Path) -> None:
    page, _ = _open(browser, report_html)
    page.emulate_media(media="print")
    assert not page.locator(".controls").first.is_visible() and not page.locator("nav").is_visible()
    pdf = artifacts / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_the_index_page(browser: Any, sample: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from auditor.cli import cli

    history, ids = sample
    for run_id in ids[-2:]:
        assert CliRunner().invoke(cli, ["report", run_id, "--history", history.url, "--publish",
                                        str(tmp_path / "site")]).exit_code == 0
    page, seen = _open(browser, tmp_path / "site" / "index.html")
    assert seen["console"] == [] and seen["errors"] == []
    page.get_by_role("link", name=ids[-2]).click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"runs/{ids[-2]}.html") and ids[-2] in page.locator("header").inner_text()
