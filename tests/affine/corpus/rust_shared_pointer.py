"""Rust compile-fail: a budget behind a shared pointer (Rc<Budget>, E0507): two
owners of one handle both spend it."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
agent_a = b
agent_b = b
left_a = agent_a.spend(10)
left_b = agent_b.spend(10)  # expect: AFF001
