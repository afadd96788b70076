"""Consumed in one closure, used in another."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()


def spend_it() -> impl.Budget:
    return b.spend(10)


def report() -> None:
    print("left:", b.available)


rest = spend_it()
report()  # expect: AFF004
