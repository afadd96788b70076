"""Benchmark: the latency the SDK wrappers add to a call, against the bare SDK call.

    python -m benchmarks.bench_sdk            # full run (a few minutes)
    python -m benchmarks.bench_sdk --quick    # smoke run (a few s)
    python -m benchmarks.bench_sdk --json     # machine-readable output

The real ``openai`` and ``anthropic`` clients call the local fake provider of the test
suite (``tests/integrations/fakeprovider.py``, 127.0.0.1, ephemeral port) in the same
run, over loopback TCP and through an in-process httpx2 transport answering with the
same payloads (no network: the SDK's own cost plus the wrapper's): the bare client,
then the same client wrapped by ``budgeted`` on a
:class:`impl.BudgetPool`, in interleaved repetitions of ``n`` calls each (non-streamed
and streamed). Per call wall time (``time.perf_counter_ns``); the table gives the
median over repetitions of the per-call mean, and the added latency (budgeted minus
bare) as time and as a fraction of the bare loopback round trip of the same call. The
``wrapper alone`` rows replace the SDK method by one returning a prebuilt response:
their difference is only what ``budgeted`` adds, free of network noise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `impl` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import impl
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai

ROOT = Path(__file__).resolve().parent.parent

MESSAGES = [{"role": "user", "content": "Name three prime numbers."}]


def _fake_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "fakeprovider", ROOT / "tests" / "integrations" / "fakeprovider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fakeprovider"] = module
    spec.loader.exec_module(module)
    return module


def _in_process(fake: Any) -> Any:
    """An httpx2 client whose transport answers in-process with the fake's payloads."""
    import httpx2

    behaviour = fake.Behaviour()

    def answer(request: Any) -> Any:
        body = json.loads(request.content)
        model, path = body["model"], request.url.path
        if body.get("stream"):
            if path.endswith("/messages"):
                events = fake._anthropic_events(model, behaviour)
            else:
                events = fake._chat_events(model, behaviour, True)
            text = "".join((f"event: {e}\n" if e else "") + f"data: {d}\n\n" for e, d in events)
            return httpx2.Response(200, content=text.encode(),
                                   headers={"content-type": "text/event-stream"})
        payload = (fake._anthropic_message(model, behaviour) if path.endswith("/messages")
                   else fake._chat(model, behaviour))
        return httpx2.Response(200, json=payload)

    return httpx2.Client(transport=httpx2.MockTransport(answer))


def _cases(fp: Any, fake: Any) -> list[tuple[str, Any, Any, Callable[[Any, bool], object]]]:
    import anthropic
    import openai

    pool = impl.BudgetPool(1 << 62)
    cases: list[tuple[str, Any, Any, Callable[[Any, bool], object]]] = []
    for where, o, a in [
        ("loopback", openai.OpenAI(base_url=fp.openai_url, api_key="b", max_retries=0),
         anthropic.Anthropic(base_url=fp.anthropic_url, api_key="b", max_retries=0)),
        ("in-process", openai.OpenAI(base_url="http://bench/v1", api_key="b", max_retries=0,
                                     http_client=_in_process(fake)),
         anthropic.Anthropic(base_url="http://bench", api_key="b", max_retries=0,
                             http_client=_in_process(fake))),
    ]:
        cases += [(f"{where}: openai chat.completions.create", o,
                   budgeted_openai.budgeted(o, pool), _chat),
                  (f"{where}: anthropic messages.create", a,
                   budgeted_anthropic.budgeted(a, pool), _messages)]
    # The wrapper alone: the SDK method replaced by one returning a prebuilt response
    # (streams: a prebuilt list wrapped like the SDK's Stream), so the difference is
    # only what budgeted() adds (planning, estimate, reserve, settle).
    o = openai.OpenAI(base_url="http://bench/v1", api_key="b", max_retries=0)
    a = anthropic.Anthropic(base_url="http://bench", api_key="b", max_retries=0)
    chat_reply = _chat(cases[2][1], False)
    chat_chunks = _chat(cases[2][1], True)
    message = _messages(cases[3][1], False)
    events = _messages(cases[3][1], True)
    completions: Any = o.chat.completions
    completions.create = lambda **kw: _Prebuilt(chat_chunks) if kw.get("stream") else chat_reply
    resource: Any = a.messages
    resource.create = lambda **kw: _Prebuilt(events) if kw.get("stream") else message
    cases += [("wrapper alone: openai chat.completions.create", o,
               budgeted_openai.budgeted(o, pool), _chat),
              ("wrapper alone: anthropic messages.create", a,
               budgeted_anthropic.budgeted(a, pool), _messages)]
    return cases


class _Prebuilt:
    """A stand-in for an SDK Stream over prebuilt items (``_iterator`` and ``close``)."""

    def __init__(self, items: Any) -> None:
        self._iterator = iter(items)

    def __iter__(self) -> Any:
        return iter(self._iterator)

    def close(self) -> None:
        pass


def _chat(c: Any, stream: bool) -> object:
    r = c.chat.completions.create(model="gpt-4o-mini", max_completion_tokens=64,
                                  messages=MESSAGES, stream=stream,
                                  **({"stream_options": {"include_usage": True}}
                                     if stream else {}))
    return list(r) if stream else r


def _messages(c: Any, stream: bool) -> object:
    r = c.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES,
                          stream=stream)
    return list(r) if stream else r


def _per_call_ns(fn: Callable[[Any, bool], object], client: Any, stream: bool, n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn(client, stream)
    return (time.perf_counter_ns() - t0) / n


def run(n: int, reps: int) -> list[dict[str, object]]:
    """Measure every case; returns one row per (case, streamed)."""
    rows: list[dict[str, object]] = []
    loopback: dict[str, float] = {}  # bare loopback round trip per call, the reference
    fake = _fake_module()
    with fake.FakeProvider() as fp:
        for name, bare, wrapped, fn in _cases(fp, fake):
            calls = n * 20 if name.startswith("wrapper alone") else n  # cheap: more calls
            for stream in (False, True):
                for c in (bare, wrapped):  # warm-up: connections, lazy imports
                    _per_call_ns(fn, c, stream, 5)
                bare_t: list[float] = []
                wrapped_t: list[float] = []
                for _ in range(reps):
                    bare_t.append(_per_call_ns(fn, bare, stream, calls))
                    wrapped_t.append(_per_call_ns(fn, wrapped, stream, calls))
                b, w = statistics.median(bare_t), statistics.median(wrapped_t)
                call = name.split(": ")[1] + (" (stream)" if stream else "")
                trip = loopback.setdefault(call, b)
                rows.append({"where": name.split(": ")[0], "call": call,
                             "bare_us": round(b / 1000, 1), "budgeted_us": round(w / 1000, 1),
                             "added_us": round((w - b) / 1000, 1),
                             "added_per_loopback_trip": round((w - b) / trip, 4)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: few calls")
    p.add_argument("--json", action="store_true", help="print JSON rows")
    args = p.parse_args(argv)
    n, reps = (20, 3) if args.quick else (100, 7)
    rows = run(n, reps)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{n} calls ({20 * n} for the wrapper alone) x {reps} interleaved repetitions, "
          f"median of per-call means")
    print(f"{'where':<15}{'call':<40}{'bare us':>10}{'budgeted us':>13}{'added us':>10}"
          f"{'added/trip':>12}")
    for r in rows:
        print(f"{r['where']!s:<15}{r['call']!s:<40}{r['bare_us']!s:>10}"
              f"{r['budgeted_us']!s:>13}{r['added_us']!s:>10}"
              f"{float(str(r['added_per_loopback_trip'])):>12.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
