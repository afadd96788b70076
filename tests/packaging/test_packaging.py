"""What a user of the library meets: a standard-library-only ``import impl``, a typed
package (``py.typed``), ``impl.__version__``, and README links that stay in the repository.

The non-editable install test builds the project as a user's ``pip install .`` would and
type-checks a user script with ``mypy --strict`` against the installed copy only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the workbench, the test suite and the optional extras bring; `import impl` must
# load none of them.
NOT_FOR_IMPL = ("z3", "numpy", "networkx", "crosshair", "hypothesis", "tiktoken",
                "psycopg", "redis", "openai", "anthropic", "spec", "model", "proofs")


def test_import_impl_loads_only_the_standard_library() -> None:
    code = textwrap.dedent(f"""
        import sys
        import impl
        loaded = sorted(m for m in {NOT_FOR_IMPL!r} if m in sys.modules)
        print(",".join(loaded))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "", f"import impl loaded {out.stdout.strip()}"


def test_no_install_requirements_without_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == []
    extras = project["optional-dependencies"]
    for needed in ("tiktoken", "workbench", "test", "postgres", "redis", "openai", "anthropic"):
        assert needed in extras, f"extra {needed!r} missing"


def test_version_and_typed_marker() -> None:
    import impl

    assert isinstance(impl.__version__, str) and impl.__version__
    assert (ROOT / "impl" / "py.typed").is_file()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_readme_links_stay_in_the_repository() -> None:
    text = (ROOT / "README.md").read_text()
    assert "../shared" not in text, "README points outside the repository"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), f"README links to missing {target}"
    assert (ROOT / "docs" / "SEMANTICS.md").is_file()


USER_SCRIPT = '''
import impl

def run(cap: int) -> int:
    s = impl.Session(cap)
    b = s.take()
    b, receipt = b.reserve(100)
    refund = receipt.confirm(40)
    b = refund.apply_to(b)
    pool = impl.BudgetPool(cap)
    with pool.reserve(10) as res:
        res.commit(5)
    version: str = impl.__version__
    return b.available + pool.available + len(version)
'''


def test_mypy_strict_on_a_user_script_from_a_non_editable_install(tmp_path: Path) -> None:
    """``pip install .`` (no extras, no editable finder) then ``mypy --strict`` a user
    script: impl must ship ``py.typed`` and type-check cleanly from site-packages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    # build from a copy: an in-tree build would leave build/ behind and reuse stale files
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for package in ("impl", "spec", "model", "proofs"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    wheels = tmp_path / "wheels"
    # the build runs offline with the setuptools the test environment already has
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(wheels), str(src)],
        check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True, cwd=tmp_path)
    # the installed copy imports with nothing but the standard library beside it
    out = subprocess.run([str(py), "-I", "-c", "import impl, sys; print(impl.__version__)"],
                         capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() not in ("", "0+unknown")
    requires = subprocess.run(
        [str(py), "-I", "-c",
         "import importlib.metadata as m; print(m.requires('token-budgets-workbench'))"],
        capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert "extra ==" in requires and all(
        "extra ==" in r for r in re.findall(r"'([^']*)'", requires))
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT)
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--python-executable", str(py), str(script)],
        capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
