"""A budget handed to a function that spends it, rebound to what the function returns;
a function that only reads a budget leaves it usable."""
# runtime: clean
import impl


def pay(b: impl.Budget) -> impl.Budget:
    return b.spend(10)


def show(b: impl.Budget) -> None:
    print(b.available)


session = impl.Session(100)
b = session.take()
b = pay(b)
show(b)
b = pay(b)
show(b)
