"""``python -m model.affine``: formats, exit codes, Markdown, the flake8 plugin, and
zero findings on the project's own code and README examples."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from programs import CORPUS
from readme import python_blocks_containing

from model.affine.checker import check_source
from model.affine.cli import main
from model.affine.flake8_plugin import AffinePlugin
from model.affine.rules import CODES

ROOT = Path(__file__).resolve().parents[2]
BAD = CORPUS / "rust_double_spend.py"
CLEAN = CORPUS / "clean_rebinding.py"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), out, err)
    return status, out.getvalue(), err.getvalue()


def test_project_code_and_readme_check_clean() -> None:
    status, out, _ = cli(str(ROOT / "impl"), str(ROOT / "model"), str(ROOT / "README.md"))
    assert (status, out) == (0, "")


def test_readme_examples_extracted_check_clean() -> None:
    blocks = python_blocks_containing("")
    assert any("impl.Session(" in b for b in blocks)
    for block in blocks:
        assert [f for f in check_source(block, "README.md") if not f.is_note] == []


def test_text_format_and_exit_status() -> None:
    status, out, _ = cli(str(BAD), str(CLEAN))
    assert status == 1
    assert out == (f"{BAD}:8:9: AFF001 `b` is used (spend) after spend() consumed it at "
                   f"line 7; rebind the result (`b = b.spend(...)`) and use the new handle\n")
    assert cli(str(CLEAN)) == (0, "", "")


def test_json_format() -> None:
    status, out, _ = cli("--format", "json", "--notes", str(CORPUS))
    data = json.loads(out)
    assert status == 1 and data["files"] == len(list(CORPUS.glob("*.py")))
    kinds = {r["kind"] for r in data["results"]}
    assert kinds == {"finding", "note"}
    assert data["findings"] == sum(r["kind"] == "finding" for r in data["results"])
    first = data["results"][0]
    assert set(first) == {"path", "line", "col", "code", "message", "kind"}


def test_notes_never_change_the_exit_status(tmp_path: Path) -> None:
    prog = tmp_path / "stored.py"
    prog.write_text("import impl\nb = impl.Session(5).take()\nagents = [b]\n")
    assert cli(str(prog)) == (0, "", "")
    status, out, _ = cli("--notes", str(prog))
    assert status == 0 and ":3:11: AFF900 " in out


def test_usage_errors(tmp_path: Path) -> None:
    assert cli()[0] == 2
    status, _, err = cli(str(tmp_path / "missing.py"))
    assert status == 2 and "no such file" in err
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    status, _, err = cli(str(broken))
    assert status == 2 and "does not parse" in err
    assert cli("--format", "xml", str(CLEAN))[0] == 2


def test_help_lists_every_code() -> None:
    run = subprocess.run([sys.executable, "-m", "model.affine", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert all(code in run.stdout for code in CODES)


def test_markdown_blocks_keep_markdown_lines(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide\n\ntext\n\n```python\nimport impl\nb = impl.Session(5).take()\n"
                   "x = b.spend(1)\ny = b.spend(1)\n```\n\n```python\nnot python(\n```\n")
    status, out, _ = cli("--notes", str(doc))
    assert status == 1
    assert f"{doc}:9:5: AFF001 " in out
    assert f"{doc}:13:1: AFF904 " in out


def test_flake8_plugin_reports_the_same_codes() -> None:
    source = BAD.read_text()
    plugin = AffinePlugin(ast.parse(source), str(BAD))
    results = list(plugin.run())
    assert [(line, col) for line, col, _, _ in results] == [(8, 8)]
    _, _, message, kind = results[0]
    assert message.startswith("AFF001 ") and kind is AffinePlugin
    stored = "import impl\nb = impl.Session(5).take()\nagents = [b]\n"
    assert list(AffinePlugin(ast.parse(stored), "x.py").run()) == []


def test_flake8_plugin_options() -> None:
    added: list[str] = []
    manager = SimpleNamespace(add_option=lambda name, **kw: added.append(name))
    AffinePlugin.add_options(manager)
    assert added == ["--affine-notes"]
    try:
        AffinePlugin.parse_options(SimpleNamespace(affine_notes=True))
        stored = "import impl\nb = impl.Session(5).take()\nagents = [b]\n"
        codes = [m.split()[0] for _, _, m, _ in AffinePlugin(ast.parse(stored), "x.py").run()]
        assert codes == ["AFF900"]
    finally:
        AffinePlugin.parse_options(SimpleNamespace(affine_notes=False))


def test_pre_commit_hook_definition() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "id: affine" in text and "entry: python -m model.affine" in text


@pytest.mark.parametrize("module", ["model.affine.cfg", "model.affine.dataflow"])
def test_engine_does_not_import_the_cli(module: str) -> None:
    run = subprocess.run([sys.executable, "-c", f"import sys, {module}; "
                          "print('model.affine.cli' in sys.modules)"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "False"
