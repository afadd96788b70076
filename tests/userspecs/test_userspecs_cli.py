"""The command line on users' specs: induction failures explained, bounded runs,
malformed specs and bad arguments as usage errors, pictures."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.check import main

ROOT = Path(__file__).resolve().parents[2]

MALFORMED = '''
from spec import Invariant, Spec, Transition

def spec(guard=lambda s, a: (a > 0, a <= s.x), update=lambda s, a: {"x": s.x - a},
         inv=lambda s, b0: (s.x >= 0,)):
    return Spec("user", ("x",), lambda b0: {"x": b0},
                (Transition("take", ("a",), guard, update),),
                (Invariant("Nat", inv),))

AND = spec(guard=lambda s, a: (a > 0 and a <= s.x,))
CHAINED = spec(guard=lambda s, a: (0 < a <= s.x,))
ARITY = spec(update=lambda s: {"x": 0})
READS = spec(guard=lambda s, a: (a <= s.y,))
WRITES = spec(update=lambda s, a: {"y": a})
FLOORDIV = spec(update=lambda s, a: {"x": s.x // 2})
NOT_A_TUPLE = spec(guard=lambda s, a: a > 0)
INVARIANT = spec(inv=lambda s: (s.x >= 0,))
'''

CASES = [
    ("AND", "transition 'take', guard", "uses `and`, which needs a condition as a Python bool"),
    ("CHAINED", "transition 'take', guard", "uses a chained comparison"),
    ("ARITY", "transition 'take', update", "lambda s, a:"),
    ("READS", "transition 'take', guard", "unknown variable 'y'"),
    ("WRITES", "transition 'take', update", "unknown variable(s) 'y'"),
    ("FLOORDIV", "transition 'take', update", "`//`"),
    ("NOT_A_TUPLE", "transition 'take', guard", "tuple of conjuncts"),
    ("INVARIANT", "invariant 'Nat'", "lambda s, b0:"),
]


@pytest.fixture
def here(user_specs: Path) -> Path:
    (user_specs / "malformed.py").write_text(MALFORMED)
    return user_specs


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        main(["-q", *argv])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing ran
    return err


def test_a_non_inductive_invariant_is_proved_by_spacer_and_the_step_is_a_note(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "--spec", "cycle.py:CYCLE"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"proofs: cycle \(unbounded B0\) +PASS +4/5 obligations proved.*"
                     r"1 step\(s\) not inductive, but safety is proved for every B0", out)
    assert re.search(r"safety: cycle \(Spacer, every B0\) +PASS +safe for every B0", out)
    assert "inductive invariant (found by Spacer, checked by Z3): x <= 2" in out
    assert ("not inductive (safety is proved, so this is no failure): "
            "step wrap preserves NotThree") in out
    assert "pre:  x=5" in out
    assert ("=> counterexample to induction from an unreachable state: the invariant holds "
            "where explored but is not inductive; strengthen it, e.g. with (s.x <= 2,)") in out


def test_a_bug_that_needs_b0_7_is_a_real_violation_at_b0_7(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "--spec", "bonus.py:BONUS", "--dot", "t.dot"]) == 1
    out = capsys.readouterr().out
    assert "=> real violation, reachable in 1 step(s) at B0 = 7 (rerun with --b0 7)" in out
    assert re.search(r"safety: bonus \(Spacer, every B0\) +FAIL +violated: Conservation broken "
                     r"after 2 step\(s\) at B0 = 7 \(rerun with --b0 7\)", out)
    assert "Conservation violated after 2 step(s) at B0 = 7:" in out
    assert re.search(r"1  sell\(n=7\)\s+left=0 sold=7\s+2  bonus\(\)\s+left=0 sold=8", out)
    # the exploration at the default B0 = 5 sees no violation; at 7 it does
    assert re.search(r"explore: bonus at B0=5 .* no violations", out)
    dot = (here / "t.dot").read_text()
    assert "sell(n=7)" in dot and "Conservation broken" in dot and "B0=7" in dot
    assert main(["-q", "--spec", "bonus.py:BONUS", "--only", "explore", "--b0", "7"]) == 1
    assert "Conservation violated after 2 step(s)" in capsys.readouterr().out


def test_an_infinite_space_stops_at_max_states_reported_incomplete(here: Path) -> None:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "model.check", "-q", "--spec", "up.py:UP",
                        "--only", "explore", "--max-states", "10000"],
                       capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert time.perf_counter() - t0 < 60
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"explore: up at B0=5 +INCOMPLETE +stopped by max states 10,000: covered "
                     r"10,000 states", r.stdout)
    assert "1 incomplete" in r.stdout and "PASS" not in r.stdout


def test_a_long_search_shows_progress_even_when_quiet(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "--spec", "up.py:UP", "--only", "explore", "--time-limit", "3"]) == 1
    out, err = capsys.readouterr()
    assert "INCOMPLETE" in out and "stopped by time limit 3 s" in out
    assert re.search(r"\.\.\. depth \d+: [\d,]+ states", err)


@pytest.mark.parametrize(("name", "where", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_spec_is_a_usage_error_naming_the_part(
    here: Path, capsys: pytest.CaptureFixture[str], name: str, where: str, says: str
) -> None:
    err = usage_error(capsys, "--spec", f"malformed.py:{name}")
    assert f"{name} is malformed" in err
    [problem] = [line for line in err.splitlines() if line.startswith("  - ")]
    assert problem.startswith(f"  - {where}: ") and says in problem


@pytest.mark.parametrize("argv", [
    ["--only", ","], ["--only", ""], ["--dot", "no/such/dir/t.dot"], ["--dot", "."],
    ["--max-states", "0"], ["--time-limit", "-1"], ["--whole-graph"],
])
def test_bad_arguments_are_usage_errors_before_any_check(
    here: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert "error:" in usage_error(capsys, "--spec", "tickets.py:TICKETS", *argv)


def test_dot_without_violation_writes_nothing_unless_the_whole_graph_is_asked_for(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "--only", "explore", "--b0", "2", "--dot", "g.dot"]) == 0
    assert not (here / "g.dot").exists()
    assert "no violation: nothing drawn" in capsys.readouterr().out
    assert main(["-q", "--only", "explore", "--b0", "2", "--dot", "g.dot", "--whole-graph"]) == 0
    assert (here / "g.dot").read_text().count(" -> ") > 21
    assert main(["-q", "--only", "explore", "--dot", "g5.dot", "--whole-graph"]) == 0
    assert "more than the graph limit 200" in capsys.readouterr().out
    assert not (here / "g5.dot").exists()


def test_deadlocks_follow_the_spec_unless_the_command_line_says(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["-q", "--only", "explore"]
    assert main([*argv, "--spec", "down.py:DOWN"]) == 1  # the default: a deadlock fails
    assert "1 deadlocked state(s) (no transition enabled; a failure" in capsys.readouterr().out
    assert main([*argv, "--spec", "down.py:DOWN_OK"]) == 0  # declares allow_deadlock=True
    assert "1 deadlocks (allowed)" in capsys.readouterr().out
    assert main([*argv, "--spec", "down.py:DOWN", "--deadlock", "allow"]) == 0
    assert main([*argv, "--spec", "down.py:DOWN_OK", "--deadlock", "fail"]) == 1


def test_svg_without_graphviz_is_a_usage_error(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(here))
    err = usage_error(capsys, "--spec", "tickets.py:OVERSOLD", "--svg", "t.svg")
    assert "Graphviz's `dot` program is not installed" in err and "--dot FILE" in err


def test_svg_and_png_go_through_graphviz_dot(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = here / "bin" / "dot"
    fake.parent.mkdir()
    # a stand-in for Graphviz: records its arguments and its input
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {here}/args\ncat > \"$3\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    assert main(["-q", "--spec", "tickets.py:OVERSOLD", "--only", "explore",
                 "--svg", "t.svg", "--png", "t.png"]) == 1
    out = capsys.readouterr().out
    assert "wrote the counterexample trace" in out and "t.svg" in out and "t.png" in out
    assert (here / "args").read_text().split() == ["-Tpng", "-o", "t.png"]
    svg_input = (here / "t.svg").read_text()
    assert svg_input.startswith("digraph") and "TypeOK broken" in svg_input
    assert '<FONT COLOR="blue">left=-1</FONT>' in svg_input  # the changed variable
