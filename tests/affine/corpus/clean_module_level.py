"""A module-level budget spent once through a function, the rest kept."""
# runtime: clean
import impl

SESSION = impl.Session(100)
BUDGET = SESSION.take()


def step() -> impl.Budget:
    return BUDGET.spend(10)


rest = step()
rest = rest.spend(10)
print(SESSION.ledger().total_charged)
