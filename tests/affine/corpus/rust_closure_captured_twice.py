"""Rust compile-fail: a budget moved into two closures (E0382)."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()


def pay_search() -> impl.Budget:
    return b.spend(10)


def pay_summary() -> impl.Budget:
    return b.spend(20)


after_search = pay_search()
after_summary = pay_summary()  # expect: AFF004
