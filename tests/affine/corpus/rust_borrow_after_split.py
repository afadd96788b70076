"""Rust compile-fail: borrow after split (E0382 on `&b`): reading a split budget."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
child, parent = b.split(40)
print(b.available)  # expect: AFF001
