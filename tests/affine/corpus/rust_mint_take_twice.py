"""Rust compile-fail: minting a second root budget (E0624): take() twice."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
root = session.take()
second = session.take()  # expect: AFF006
