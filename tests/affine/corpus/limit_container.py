"""A documented limit: a budget stored in a container is no longer tracked through
the container. The checker says so (note AFF900) instead of passing silently."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
agents = {"search": b}  # note: AFF900
rest = b.spend(10)
left = agents["search"].spend(10)
