"""The shipped files (rule pack, report templates) read through importlib.resources: from the checkout's
folders here (editable install), from a zip as well; the installed wheel is tests/packaging's."""

from __future__ import annotations

import zipfile
from pathlib import Path

import jinja2
import pytest

from auditor.errors import ConfigError
from auditor.resources import builtin_rules, pack_digest, rule_files, template_loader, templates
from auditor.rules.engine import load_pack

REPO = Path(__file__).resolve().parent.parent


def test_the_packages_are_the_top_level_folders_of_the_checkout() -> None:
    assert Path(str(builtin_rules())) == REPO / "rules"
    assert Path(str(templates())) == REPO / "reports"
    assert [f.name for f in rule_files(builtin_rules())] == sorted(
        p.name for p in (REPO / "rules").glob("*.py") if not p.name.startswith("_"))


def _zipped(folder: Path, archive: Path, extra: dict[str, str] | None = None) -> zipfile.Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*.py"):
            zipped.write(path, f"pack/{path.relative_to(folder)}")
        for name, text in (extra or {}).items():
            zipped.writestr(f"pack/{name}", text)
    return zipfile.Path(archive, "pack/")


def test_a_pack_loads_from_a_zip_as_from_its_folder(tmp_path: Path) -> None:
    from_zip = load_pack(_zipped(REPO / "rules", tmp_path / "pack.zip"))
    from_folder = load_pack(REPO / "rules")
    assert [r.meta for r in from_zip.rules] == [r.meta for r in from_folder.rules]
    assert len(from_zip.sources) == len(from_folder.sources) and from_zip.sources[0].endswith("alb.py")


def test_a_broken_rule_file_in_a_zip_is_a_one_line_error(tmp_path: Path) -> None:
    pack = _zipped(tmp_path, tmp_path / "broken.zip", {"bad.py": "raise RuntimeError('no')\n"})
    with pytest.raises(ConfigError, match=r"rule file .*bad.py failed to load: RuntimeError: no"):
        load_pack(pack)


def test_the_pack_digest_follows_names_and_contents(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "_helper.py").write_text("")
    first = pack_digest(tmp_path)
    (tmp_path / "_helper.py").write_text("changed, not a rule file")
    assert pack_digest(tmp_path) == first
    (tmp_path / "a.py").write_text("A = 2\n")
    assert pack_digest(tmp_path) != first
    (tmp_path / "a.py").rename(tmp_path / "b.py")
    assert pack_digest(tmp_path) not in (first, pack_digest(REPO / "rules"))


def test_templates_load_by_name_and_nothing_outside_the_folder() -> None:
    loader = template_loader()
    env = jinja2.Environment(loader=loader)
    source, _, _ = loader.get_source(env, "report.html.j2")
    assert source == (REPO / "reports" / "report.html.j2").read_text(encoding="utf-8")
    for name in ("../README.md", "absent.j2", "/etc/passwd", "__init__.py/x"):
        with pytest.raises(jinja2.TemplateNotFound):
            env.get_template(name)
