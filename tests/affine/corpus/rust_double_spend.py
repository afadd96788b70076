"""Rust compile-fail: double spend (E0382, use of a moved value)."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
rest = b.spend(10)
again = b.spend(10)  # expect: AFF001
