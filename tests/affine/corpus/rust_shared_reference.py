"""Rust compile-fail: consuming a budget while a shared reference to it lives
(E0505): the reference is read after the move."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
view = b
rest = b.spend(10)
print(view.available)  # expect: AFF001
