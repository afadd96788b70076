"""Rust compile-fail: spend after split (E0382)."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
child, parent = b.split(40)
rest = b.spend(10)  # expect: AFF001
