import { LUA_COMMON } from "./lua-common.ts";

/**
 * Reserve an amount on every scope, or on none. KEYS[1] the job's ledger record.
 * ARGV: 1 L, 2 job id, 3 amount, 4 attempt or '', 5 now (ISO), 6 n, then n pairs (scope, period).
 * Returns {'ok'}, {'reserved'} (a live reservation exists), {'settled'}, {'stale', attempt}
 * (a replay of an attempt older than the last one), or {'blocked', i, limit, spent, reserved}.
 */
export const RESERVE = `${LUA_COMMON}
local job, amount, attempt, now, n = KEYS[1], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local state = redis.call('HGET', job, 'state')
if state == 'reserved' then return {'reserved'} end
if state == 'settled' then return {'settled'} end
if state == 'released' and attempt ~= '' then
  local prev = redis.call('HGET', job, 'attempt')
  if prev and prev ~= '' and tonumber(attempt) < tonumber(prev) then return {'stale', prev} end
end
local amt = tonumber(amount)
local entries = {}
for i = 1, n do
  local scope = ARGV[5 + 2 * i]
  local period = resolve(scope, ARGV[6 + 2 * i])
  local limit = redis.call('HGET', L .. ':budget:' .. scope, 'limit')
  if limit and limit ~= '' then
    local c = ctr(scope, period)
    local spent = redis.call('HGET', c, 'spent') or '0'
    local reserved = redis.call('HGET', c, 'reserved') or '0'
    if tonumber(spent) + tonumber(reserved) + amt > tonumber(limit) then
      return {'blocked', tostring(i), limit, spent, reserved}
    end
  end
  entries[i] = {scope, period}
end
if amt > 0 then
  for i = 1, n do redis.call('HINCRBY', ctr(entries[i][1], entries[i][2]), 'reserved', amount) end
end
redis.call('HSET', job, 'state', 'reserved', 'amount', amount, 'scopes', cjson.encode(entries), 'attempt', attempt, 'reserved_at', now)
redis.call('HDEL', job, 'released_at')
return {'ok'}
`;

/**
 * Give a live reservation back. KEYS[1] the job's ledger record. ARGV: 1 L, 2 now (ISO).
 * Returns 1 released, 0 nothing live to release.
 */
export const RELEASE = `${LUA_COMMON}
local job = KEYS[1]
if redis.call('HGET', job, 'state') ~= 'reserved' then return 0 end
local amount = redis.call('HGET', job, 'amount')
local entries = cjson.decode(redis.call('HGET', job, 'scopes'))
for _, e in ipairs(entries) do
  local period = resolve(e[1], e[2])
  if amount ~= '0' then redis.call('HINCRBY', ctr(e[1], period), 'reserved', neg(amount)) end
end
redis.call('HSET', job, 'state', 'released', 'released_at', ARGV[2])
return 1
`;

/**
 * Record a job's real cost, once. KEYS[1] the job's ledger record.
 * ARGV: 1 L, 2 actual, 3 now (ISO; no longer kept), 4 model, 5 seconds in ms, 6 UTC day of finishedAt,
 * 7 batch row key, 8 UTC slot day, 9 slot index, 10 slot TTL (s), 11 n, then n pairs
 * (scope, period) charged when the job has no reservation.
 * Returns {0} when already settled, else {1, {scope, percent, ...}} with the thresholds crossed.
 *
 * A live reservation moves to spent in the reservation's own period; a released one charges the
 * periods it had named; with none, the given scopes in their current period. The settled record
 * keeps only `state` and `actual`: one is left per paid submit for good (~150 bytes with its key,
 * where the full record took ~350 or more).
 */
export const SETTLE = `${LUA_COMMON}
local job, actual = KEYS[1], ARGV[2]
local state = redis.call('HGET', job, 'state')
if state == 'settled' then return {0} end
local entries, amount = {}, '0'
if state == 'reserved' or state == 'released' then
  entries = cjson.decode(redis.call('HGET', job, 'scopes'))
  amount = redis.call('HGET', job, 'amount')
else
  for i = 1, tonumber(ARGV[11]) do entries[i] = {ARGV[10 + 2 * i], ARGV[11 + 2 * i]} end
end
local crossed = {}
for _, e in ipairs(entries) do
  local scope = e[1]
  local period = resolve(scope, e[2])
  local c = ctr(scope, period)
  if state == 'reserved' and amount ~= '0' then redis.call('HINCRBY', c, 'reserved', neg(amount)) end
  local spent = redis.call('HINCRBY', c, 'spent', actual)
  if actual ~= '0' then
    local slots = L .. ':slots:' .. scope .. ':' .. ARGV[8]
    redis.call('HINCRBY', slots, ARGV[9], actual)
    redis.call('EXPIRE', slots, ARGV[10])
    redis.call('HINCRBY', L .. ':life:' .. scope, 'spent', actual)
  end
  local limit = redis.call('HGET', L .. ':budget:' .. scope, 'limit')
  if limit and limit ~= '' and spent > 0 then
    -- Markers make each threshold fire once per period (set_budget re-arms those spend is below).
    for _, pct in ipairs({50, 80, 100}) do
      if spent * 100 >= pct * tonumber(limit) and redis.call('HSETNX', c, 'a' .. pct, '1') == 1 then
        crossed[#crossed + 1] = scope
        crossed[#crossed + 1] = tostring(pct)
      end
    end
  end
end
local seconds_ms = ARGV[5]
local function row(group, key)
  local k = L .. ':spend:' .. group .. ':' .. key
  redis.call('HINCRBY', k, 'jobs', 1)
  redis.call('HINCRBY', k, 'ms', seconds_ms)
  redis.call('HINCRBY', k, 'cost', actual)
  redis.call('SADD', L .. ':spend:' .. group, key)
end
row('model', ARGV[4])
row('day', ARGV[6])
row('batch', ARGV[7])
local totals = L .. ':spend:totals'
redis.call('HINCRBY', totals, 'jobs', 1)
redis.call('HINCRBY', totals, 'ms', seconds_ms)
redis.call('HINCRBY', totals, 'cost', actual)
-- Its money now sits in the counters and spend rows: the record only has to make replays no-ops.
redis.call('DEL', job)
redis.call('HSET', job, 'state', 'settled', 'actual', actual)
return {1, crossed}
`;
