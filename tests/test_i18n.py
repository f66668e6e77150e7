"""The helper speaks the lesson's language: every message has a Chinese translation, the
compiled catalog is current, and the language follows the lesson's folder, `lang=` or
PHI_COURSE_LANG. Runs the real gettext catalogs, the real doctor and real failed requests."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from phi_course import errors, i18n, route_check, route_table
from phi_course.i18n import _
from tests.lesson_files import ROOT
from tools import i18n as catalogs

HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# Calls and keywords whose text a learner reads in a figure or a widget.
LABEL_CALLS = {"set_title", "set_xlabel", "set_ylabel", "suptitle"}
# ... and in a command's --help (description= and help= of argparse).
LABEL_KEYWORDS = {"label", "description", "placeholder", "tooltip", "help"}


def package_sources() -> list[Path]:
    return [p for p in (ROOT / "phi_course").rglob("*.py")
            if not any(p.relative_to(ROOT / "phi_course").as_posix().startswith(s) for s in catalogs.SKIPPED)]


def test_every_message_has_a_current_chinese_translation():
    assert catalogs.problems("zh") == []


def test_translations_keep_every_placeholder():
    catalog = catalogs.read(catalogs.po_path("zh"), "zh")
    wrong = [m.id for m in catalog if m.id and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))]
    assert wrong == []


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_text(node: ast.expr) -> bool:
    """A literal (or f-string) a learner would read untranslated."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)
                                               and bool(re.search(r"[A-Za-z]{2}", node.value)))


def test_messages_are_marked_so_they_can_be_extracted():
    """`_()` takes a literal (an f-string would never match its catalog entry) or a value marked
    with N_() where it was defined; figure and widget labels and --help texts always go through `_()`."""
    found = []
    for path in package_sources():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in ("_", "N_") and (len(node.args) != 1 or isinstance(node.args[0], ast.JoinedStr | ast.BinOp)):
                found.append(f"{where}:{node.lineno} {name}() of a built string: extraction cannot see it")
            if name in LABEL_CALLS and node.args and _is_text(node.args[0]):
                found.append(f"{where}:{node.lineno} {name}() of untranslated text")
            found += [f"{where}:{node.lineno} {k.arg}= untranslated" for k in node.keywords
                      if k.arg in LABEL_KEYWORDS and _is_text(k.value)]
    assert found == []


def test_the_checks_catch_a_message_without_translation(tmp_path, monkeypatch):
    module = tmp_path / "phi_course"
    module.mkdir()
    (module / "new.py").write_text('from phi_course.i18n import _\nprint(_("A message nobody translated"))\n')
    monkeypatch.setattr(catalogs, "PACKAGE", module)
    assert any("A message nobody translated" in p for p in catalogs.problems("zh"))


def _start_line(cwd: Path, code: str = 'start("00_setup")', env: dict | None = None) -> str:
    """What a lesson's setup cell prints, run by a fresh interpreter in `cwd`."""
    done = subprocess.run([sys.executable, "-c", f"from phi_course.lesson import start\n{code}"], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "PHI_COURSE_NO_DOTENV": "1", **(env or {})})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_lesson_in_lessons_zh_starts_in_chinese(tmp_path):
    zh = tmp_path / "lessons" / "zh"
    zh.mkdir(parents=True)
    assert HAN.search(_start_line(zh))


def test_lang_and_the_variable_win_over_the_folder(tmp_path, monkeypatch):
    zh = tmp_path / "lessons" / "zh"
    zh.mkdir(parents=True)
    monkeypatch.delenv(i18n.LANG_VAR, raising=False)
    monkeypatch.chdir(zh)
    try:
        assert i18n.set_language(None) == "zh"
        assert i18n.set_language("en") == "en"  # start(..., lang="en")
        monkeypatch.chdir(tmp_path)
        assert i18n.set_language("zh") == "zh"
        i18n.set_language(None)
        monkeypatch.setenv(i18n.LANG_VAR, "zh_CN")
        assert i18n.language() == "zh"
        monkeypatch.chdir(zh)
        monkeypatch.setenv(i18n.LANG_VAR, "en")
        assert i18n.language() == "en"
    finally:
        i18n.set_language(None)


def test_an_unknown_language_says_which_ones_exist():
    with pytest.raises(ValueError, match="use one of en, zh"):
        i18n.set_language("fr")


@pytest.fixture
def chinese():
    i18n.set_language("zh")
    yield
    i18n.set_language(None)


def test_the_doctor_table_speaks_chinese_and_keeps_its_status_codes(chinese, keyless, no_ollama):
    report = route_check.doctor(probe=False)
    text, page = str(report), report._repr_html_()
    assert text.startswith("途径 / 引擎") and "<th>途径 / 引擎</th>" in page and "核实于" in report.caption
    # code (and lesson 00's exercise) compares statuses and names: they stay as they are, only shown translated
    assert {c.status for c in report} <= set(route_check.STATUS_LABELS)
    assert "embedded models" in {c.name for c in report} and "内置模型" in text
    assert "本地替身" in text and "<b>本地替身</b>" in page
    ollama = next(c for c in report if c.name == "ollama")
    assert HAN.search(ollama.detail) and HAN.search(ollama.todo)


def test_a_failed_request_is_explained_in_chinese(chinese):
    with pytest.raises(httpx.ConnectError) as failure:
        httpx.get("http://127.0.0.1:9/v1/models", timeout=5)  # nothing listens on the discard port
    problem = errors.explain(failure.value)
    assert problem.title == "那里没有服务在监听"
    assert str(problem).splitlines()[1].startswith("  发生了什么：") and "127.0.0.1:9" in problem.what


def test_english_stays_the_default_and_the_source_text(tmp_path, monkeypatch):
    monkeypatch.delenv(i18n.LANG_VAR, raising=False)
    monkeypatch.chdir(tmp_path)  # not a lesson folder
    i18n.set_language(None)
    assert i18n.language() == "en" and _("The key was refused") == "The key was refused"
    monkeypatch.chdir((tmp_path / "lessons" / "zh").mkdir(parents=True) or tmp_path / "lessons" / "zh")
    assert i18n.language() == "zh" and _("The key was refused") == "密钥被拒绝"


def test_an_empty_heading_stays_empty_in_chinese(chinese):
    # gettext translates "" to the catalog's header; a table must never show it
    from phi_course.tables import Table

    table = Table([{"": "total", "model": "Phi-3-mini"}])
    assert "Project-Id-Version" not in str(table) + table._repr_html_()
    assert str(table).splitlines()[0].split() == ["模型"] and "<th></th>" in table._repr_html_()


def test_lesson_tables_speak_chinese_and_keep_their_english_keys(chinese):
    from phi_course.concepts import family, route_choice

    costs, decisions = route_choice.costs_table(), route_choice.decision_table()
    assert HAN.search(costs.title) and HAN.search(str(costs).splitlines()[1]) and "route" in costs[0]
    assert all(HAN.search(row["pick"]) for row in decisions)  # every cell is a translated sentence
    assert "已于 2026-07-30 停用" in costs[0]["good to know"]  # the date fills the translated sentence
    assert route_choice.COSTS[0]["you pay"] == "nothing: the service is retired"  # the data stays English
    matrix = family.route_matrix()
    assert HAN.search(matrix.title) and {r["github"] for r in matrix} <= {"2026-07-30 停用", "-"}
    assert route_table.route("custom").label == "课堂或团队的服务器" and route_table.route("nim").label == "NVIDIA NIM"


def test_every_vision_family_has_a_marked_name():
    from phi_course.vision import evaluate, tasks

    assert set(evaluate.FAMILY_NAMES) == set(tasks.FAMILIES)


def test_the_command_line_help_speaks_the_course_language(monkeypatch, capsys):
    from phi_course.__main__ import main

    monkeypatch.setenv(i18n.LANG_VAR, "zh")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "显示这里哪些途径和引擎可用" in capsys.readouterr().out
