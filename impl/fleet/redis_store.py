"""The Redis backend: each operation is one Lua script, run atomically by the server.

A pool is four keys sharing one hash tag (one cluster slot): ``ledger`` (a hash of
``cap``, the six SEMANTICS.md fields, ``shared`` and, once reconciled, ``overdraft``
and ``reconciled``), ``res`` (reservation records),
``leases`` (open reservations by deadline) and ``shares``. The script reads the
server's ``TIME`` for leases and checks every guard before its first write (a Redis
script is not rolled back on error). Redis scripts count in doubles, hence
:data:`impl.fleet.AMOUNT_LIMIT` (2**53) on every store.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from impl.fleet.backend import Reply
from impl.fleet.errors import StoreUnavailable
from impl.fleet.url import StoreURL

SCRIPT = r"""
local L, R, Z, S = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local function d(n) return string.format('%d', n) end
local function parse(rec)
  local st, amt, act, sh = string.match(rec, '^(%a)|(%d+)|(%d*)|(.*)$')
  return st, tonumber(amt), tonumber(act), sh
end
local function idx(st) return string.find('ocxfe', st, 1, true) - 1 end
if redis.call('EXISTS', L) == 0 then
  if op ~= 'create' then return {'no_pool', {}, {}} end
  redis.call('HSET', L, 'cap', ARGV[2], 'live_sum', ARGV[2], 'outstanding_receipts', 0,
    'outstanding_refunds', 0, 'total_charged', 0, 'total_unrecoverable', 0,
    'total_released', 0, 'shared', 0)
  return {'ok', {}, {}}
end
if op == 'create' then return {'exists', {}, {}} end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expired = {}
local due = redis.call('ZRANGEBYSCORE', Z, '-inf', string.format('%.6f', now))
if #due > 0 then
  local total = 0
  for _, id in ipairs(due) do
    local _, amt, _, sh = parse(redis.call('HGET', R, id))
    total = total + amt
    expired[#expired + 1] = amt
    redis.call('HSET', R, id, 'e|' .. d(amt) .. '||' .. sh)
    redis.call('ZREM', Z, id)
  end
  redis.call('HINCRBY', L, 'outstanding_receipts', d(-total))
  redis.call('HINCRBY', L, 'total_unrecoverable', d(total))
end
local live = tonumber(redis.call('HGET', L, 'live_sum'))
local shared = tonumber(redis.call('HGET', L, 'shared'))
if op == 'reserve' then
  local sh, id, r, lease = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
  local rec = redis.call('HGET', R, id)
  if rec then
    local st, amt = parse(rec)
    if amt ~= r then return {'mismatch', {amt}, expired} end
    if st == 'o' then return {'repeat', {amt}, expired} end
    if st == 'e' then return {'expired', {amt}, expired} end
    return {'settled', {idx(st), amt, -1}, expired}
  end
  local over = tonumber(redis.call('HGET', L, 'overdraft') or '0')
  if over > 0 then return {'closed', {over}, expired} end
  local avail = live - shared
  if sh ~= '' then
    local v = redis.call('HGET', S, sh)
    if not v then return {'no_share', {}, expired} end
    avail = tonumber(v)
  end
  if r > avail then return {'refused', {avail, live}, expired} end
  if sh ~= '' then
    redis.call('HINCRBY', S, sh, d(-r))
    redis.call('HINCRBY', L, 'shared', d(-r))
  end
  redis.call('HINCRBY', L, 'live_sum', d(-r))
  redis.call('HINCRBY', L, 'outstanding_receipts', d(r))
  redis.call('HSET', R, id, 'o|' .. d(r) .. '||' .. sh)
  redis.call('ZADD', Z, string.format('%.6f', now + lease), id)
  return {'ok', {r}, expired}
elseif op == 'settle' then
  local id, kind, act = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local rec = redis.call('HGET', R, id)
  if not rec then return {'no_id', {}, expired} end
  local st, amt, stored, sh = parse(rec)
  if st ~= 'o' then
    if st == 'e' then return {'expired', {amt}, expired} end
    if st == kind and (kind ~= 'c' or stored == act) then
      return {'repeat', {amt, stored or -1}, expired}
    end
    return {'settled', {idx(st), amt, stored or -1}, expired}
  end
  if kind == 'c' and act > amt then return {'over', {amt}, expired} end
  local charged = 0
  if kind == 'c' then charged = act end
  local back = amt - charged
  if kind == 'f' then back = 0 end
  redis.call('HINCRBY', L, 'outstanding_receipts', d(-amt))
  if charged > 0 then redis.call('HINCRBY', L, 'total_charged', d(charged)) end
  if back > 0 then
    redis.call('HINCRBY', L, 'live_sum', d(back))
    if sh ~= '' and redis.call('HEXISTS', S, sh) == 1 then
      redis.call('HINCRBY', S, sh, d(back))
      redis.call('HINCRBY', L, 'shared', d(back))
    end
  end
  local keep = d(charged)
  if kind == 'f' then
    redis.call('HINCRBY', L, 'total_unrecoverable', d(amt))
    keep = ''
  end
  redis.call('HSET', R, id, kind .. '|' .. d(amt) .. '|' .. keep .. '|' .. sh)
  redis.call('ZREM', Z, id)
  return {'ok', {amt, charged}, expired}
elseif op == 'ledger' then
  local v = redis.call('HMGET', L, 'cap', 'live_sum', 'outstanding_receipts',
    'outstanding_refunds', 'total_charged', 'total_unrecoverable', 'total_released', 'shared',
    'overdraft')
  local out = {}
  for i = 1, #v do out[i] = tonumber(v[i]) or 0 end
  return {'ok', out, expired}
elseif op == 'reconcile' then
  local billed = tonumber(ARGV[2])
  local charged = tonumber(redis.call('HGET', L, 'total_charged'))
  local over = tonumber(redis.call('HGET', L, 'overdraft') or '0')
  local last = redis.call('HGET', L, 'reconciled')
  local drift = billed - charged
  if drift < 0 then
    if not last or tonumber(last) ~= billed then return {'below', {charged}, expired} end
    drift = 0  -- the bill reconciled last time, again (charges landed since)
  end
  if over > 0 or drift > live then
    local worst = math.max(over, drift - live)
    if worst ~= over then redis.call('HSET', L, 'overdraft', d(worst)) end
    return {'overdraft', {charged, live, worst, over, drift}, expired}
  end
  local rest = drift - (live - shared)  -- the pool's own live amount pays first
  if rest > 0 then
    local all, names = redis.call('HGETALL', S), {}
    for i = 1, #all, 2 do names[#names + 1] = all[i] end
    table.sort(names)
    for _, sh in ipairs(names) do
      local take = math.min(tonumber(redis.call('HGET', S, sh)), rest)
      if take > 0 then
        redis.call('HINCRBY', S, sh, d(-take))
        redis.call('HINCRBY', L, 'shared', d(-take))
        rest = rest - take
      end
      if rest == 0 then break end
    end
  end
  if drift > 0 then
    redis.call('HINCRBY', L, 'live_sum', d(-drift))
    redis.call('HINCRBY', L, 'total_charged', d(drift))
  end
  redis.call('HSET', L, 'reconciled', d(billed))
  return {'ok', {drift}, expired}
elseif op == 'available' then
  local sh = ARGV[2]
  if sh == '' then return {'ok', {live - shared}, expired} end
  local v = redis.call('HGET', S, sh)
  if not v then return {'no_share', {}, expired} end
  return {'ok', {tonumber(v)}, expired}
elseif op == 'split' then
  local sh, amt = ARGV[2], tonumber(ARGV[3])
  if amt > live - shared then return {'refused', {live - shared, live}, expired} end
  local v = redis.call('HINCRBY', S, sh, d(amt))
  redis.call('HINCRBY', L, 'shared', d(amt))
  return {'ok', {v}, expired}
elseif op == 'merge' then
  local sh = ARGV[2]
  local v = redis.call('HGET', S, sh)
  if not v then return {'no_share', {}, expired} end
  redis.call('HDEL', S, sh)
  redis.call('HINCRBY', L, 'shared', d(-tonumber(v)))
  return {'ok', {tonumber(v)}, expired}
elseif op == 'audit' then
  local total, count = 0, 0
  for _, id in ipairs(redis.call('ZRANGE', Z, 0, -1)) do
    local _, amt = parse(redis.call('HGET', R, id))
    total = total + amt
    count = count + 1
  end
  local shares = 0
  for _, v in ipairs(redis.call('HVALS', S)) do shares = shares + tonumber(v) end
  return {'ok', {total, count, shares}, expired}
end
return {'ok', {}, expired}
"""


class RedisBackend:
    """A client of one Redis server; see :class:`impl.fleet.backend.Backend`."""

    def __init__(self, store: StoreURL) -> None:
        self._prefix = store.namespace
        # One retry on a lost connection: every script is idempotent by id.
        self._client: redis.Redis = redis.Redis.from_url(
            store.target, socket_timeout=store.timeout,
            socket_connect_timeout=store.timeout, retry=Retry(NoBackoff(), 1))
        self._script = self._client.register_script(SCRIPT)

    def close(self) -> None:
        self._client.close()

    def _run(self, pool: str, *args: str | int) -> Reply:
        base = f"{self._prefix}:{{{pool}}}:"
        keys = [base + k for k in ("ledger", "res", "leases", "shares")]
        try:
            code, vals, expired = self._script(keys=keys, args=list(args))
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StoreUnavailable(f"Redis store unreachable: {e}") from e
        return Reply(code.decode(), tuple(vals), tuple(expired))

    def create(self, pool: str, cap: int) -> Reply:
        return self._run(pool, "create", cap)

    def reserve(self, pool: str, share: str | None, id: str, r: int, lease: float) -> Reply:
        return self._run(pool, "reserve", share or "", id, r, repr(lease))

    def settle(self, pool: str, id: str, kind: str, actual: int) -> Reply:
        return self._run(pool, "settle", id, kind, actual)

    def reconcile(self, pool: str, billed: int) -> Reply:
        return self._run(pool, "reconcile", billed)

    def expire(self, pool: str) -> Reply:
        return self._run(pool, "expire")

    def ledger(self, pool: str) -> Reply:
        return self._run(pool, "ledger")

    def available(self, pool: str, share: str | None) -> Reply:
        return self._run(pool, "available", share or "")

    def split(self, pool: str, share: str, amount: int) -> Reply:
        return self._run(pool, "split", share, amount)

    def merge(self, pool: str, share: str) -> Reply:
        return self._run(pool, "merge", share)

    def audit(self, pool: str) -> Reply:
        return self._run(pool, "audit")
