"""``--dot``, ``--svg``, ``--png``: a counterexample trace as a picture people can read.

The trace is drawn as a chain of boxes, one per state, each edge labelled with the
step; in each state the variables the step changed are bold and blue, and the last
state, where the invariant breaks, is red and names the broken invariant.  DOT is
written by hand; SVG and PNG are rendered by Graphviz's ``dot`` program when it is
installed (:func:`graphviz_missing` says so before any check runs).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from model.cli.report import CheckResult
from model.cli.traces import Picture

#: The whole state graph is drawn (``--whole-graph``) only up to this many states.
WHOLE_GRAPH_LIMIT = 200

INSTALL = ("Graphviz's `dot` program is not installed (it renders --svg/--png); install it "
           "(apt-get install graphviz, brew install graphviz) or write DOT with --dot FILE")


def graphviz_missing() -> str:
    """Why ``--svg``/``--png`` cannot work here ("" when ``dot`` is on PATH)."""
    return "" if shutil.which("dot") else INSTALL


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _state_label(index: int, state: Mapping[str, int], before: Mapping[str, int] | None,
                 broken: Sequence[str]) -> str:
    rows = [f'<TR><TD ALIGN="LEFT"><B>{index}</B></TD></TR>']
    for k, v in state.items():
        text = html.escape(f"{k}={v}")
        if before is not None and before.get(k) != v:
            text = f'<B><FONT COLOR="blue">{text}</FONT></B>'
        rows.append(f'<TR><TD ALIGN="LEFT">{text}</TD></TR>')
    for name in broken:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="red">{html.escape(name)} '
                    "broken</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def trace_dot(picture: Picture) -> str:
    """The trace in DOT: changed variables highlighted, the last state red."""
    lines = [f"digraph {_quote(picture.title)} {{",
             "  node [shape=box, fontname=monospace];",
             f"  label={_quote(picture.title)}; labelloc=t;"]
    last = len(picture.trace) - 1
    before: Mapping[str, int] | None = None
    for i, (label, state) in enumerate(picture.trace):
        broken = picture.broken if i == last else ()
        style = ", color=red, penwidth=2" if i == last and picture.broken else ""
        lines.append(f"  s{i} [label={_state_label(i, state, before, broken)}{style}];")
        if i:
            lines.append(f"  s{i - 1} -> s{i} [label={_quote(label)}];")
        before = state
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, fmt: str, path: Path) -> None:
    """Render DOT text to ``path`` in ``fmt`` (``svg``/``png``) with Graphviz's ``dot``."""
    done = subprocess.run(["dot", f"-T{fmt}", "-o", str(path)], input=dot_text.encode(),
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace')}")


#: Whose trace is drawn first: the exploration's (at the B0 asked for), then Spacer's
#: (the shortest, at the smallest B0), then a reachable induction counterexample's.
PREFERENCE = ("explore", "safety", "proof")


def first_picture(results: Sequence[CheckResult]) -> Picture | None:
    """The trace to draw: a failing row's before a passing one's, in ``PREFERENCE`` order
    of kinds, else in run order."""
    rank = {kind: i for i, kind in enumerate(PREFERENCE)}
    drawn = sorted((r for r in results if r.picture is not None),
                   key=lambda r: (r.ok, rank.get(r.kind, len(rank))))
    return drawn[0].picture if drawn else None


def write(results: Sequence[CheckResult], outputs: Mapping[str, Path],
          whole_graph: str | None) -> list[str]:
    """Write the picture of ``results`` to each of ``outputs`` (format -> path); with no
    trace, the whole state graph when ``whole_graph`` holds its DOT text.  Returns
    one note per file written or not written."""
    picture = first_picture(results)
    if picture is not None:
        text, what = trace_dot(picture), f"the counterexample trace ({picture.title})"
    elif whole_graph is not None:
        text, what = whole_graph, "the whole state graph"
    else:
        return [f"no violation: nothing drawn, {', '.join(map(str, outputs.values()))} not "
                f"written (--whole-graph draws the state graph of a space of at most "
                f"{WHOLE_GRAPH_LIMIT} states)"]
    notes = []
    for fmt, path in outputs.items():
        if fmt == "dot":
            path.write_text(text)
        else:
            render(text, fmt, path)
        notes.append(f"wrote {what} to {path}")
    return notes
