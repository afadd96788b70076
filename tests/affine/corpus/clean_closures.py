"""Closures: one closure spends its own split, each called once."""
# runtime: clean
import impl

session = impl.Session(100)
search, summary = session.take().split(50)


def pay_search() -> impl.Budget:
    return search.spend(10)


def pay_summary() -> impl.Budget:
    return summary.spend(20)


left_search = pay_search()
left_summary = pay_summary()
report = lambda: print(left_search.available, left_summary.available)
report()
report()
