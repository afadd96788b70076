"""The forgetful operator done right: each asyncio child gets its own split, reserves
before its call, confirms after it (forfeits if cancelled), and hands the rest back."""
# runtime: clean
import asyncio

import impl


async def child(b: impl.Budget, estimate: int, actual: int) -> impl.Budget:
    b, receipt = b.reserve(estimate)
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        receipt.forfeit()
        raise
    return receipt.confirm(actual).apply_to(b)


async def main() -> int:
    session = impl.Session(100)
    first, rest = session.take().split(33)
    second, rest = rest.split(33)
    third, parent = rest.split(33)
    done = await asyncio.gather(child(first, 31, 23), child(second, 31, 23),
                                child(third, 31, 23))
    for b in done:
        parent = parent.merge(b)
    return parent.available


print(asyncio.run(main()))
