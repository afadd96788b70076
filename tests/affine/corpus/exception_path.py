"""Spent inside a try, spent again in the except clause after a later failure."""
# runtime: AffineViolation
import impl


def fetch() -> str:
    raise ValueError("the provider timed out")


def agent(b: impl.Budget) -> impl.Budget:
    try:
        rest = b.spend(10)
        print(fetch())
    except ValueError:
        return b.spend(5)  # expect: AFF002
    return rest


session = impl.Session(100)
left = agent(session.take())
