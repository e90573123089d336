import { LUA_COMMON } from "./lua-common.ts";

/**
 * Store a scope's budget and, when its current period key changes, move the money over.
 * KEYS[1] the budget hash. ARGV: 1 L, 2 scope, 3 limit or '', 4 period, 5 timezone, 6 now (ISO),
 * 7 current period key under the previous settings, 8 current period key under the new ones,
 * 9 'life' (new period is `none`) or 'slots', 10 m, then m triples (UTC day, first slot, last slot)
 * covering the new period up to now.
 * Returns 1 when the counter moved, 0 when the period key stayed.
 *
 * The new current counter gets the spend settled inside its own window (from the 15-minute slots,
 * or the scope's lifetime spend for `none`) plus the old counter's live reservations; the old
 * counter is emptied and forwards to the new one, so those reservations settle into it. A new
 * period starts with no alert markers: thresholds it is already past fire at its next settle.
 */
export const SET_BUDGET = `${LUA_COMMON}
local scope, limit, new = ARGV[2], ARGV[3], ARGV[8]
redis.call('HSET', KEYS[1], 'limit', limit, 'period', ARGV[4], 'timezone', ARGV[5], 'updated_at', ARGV[6])
local src = resolve(scope, ARGV[7])
local t = ctr(scope, new)
local moved = 0
if src ~= new then
  local spent = 0
  if ARGV[9] == 'life' then
    spent = tonumber(redis.call('HGET', L .. ':life:' .. scope, 'spent') or '0')
  else
    for i = 0, tonumber(ARGV[10]) - 1 do
      local day, first, last = ARGV[11 + 3 * i], tonumber(ARGV[12 + 3 * i]), tonumber(ARGV[13 + 3 * i])
      local slots = redis.call('HGETALL', L .. ':slots:' .. scope .. ':' .. day)
      for j = 1, #slots, 2 do
        local slot = tonumber(slots[j])
        if slot >= first and slot <= last then spent = spent + tonumber(slots[j + 1]) end
      end
    end
  end
  local s = ctr(scope, src)
  local reserved = redis.call('HGET', s, 'reserved') or '0'
  redis.call('DEL', t)
  redis.call('HSET', t, 'spent', string.format('%.0f', spent), 'reserved', reserved)
  redis.call('HSET', s, 'spent', '0', 'reserved', '0', 'fwd', new)
  moved = 1
end
-- Re-arm the alerts the current spend is below under the new limit (a raised limit can be reached again).
if limit ~= '' then
  local spent = tonumber(redis.call('HGET', t, 'spent') or '0')
  for _, pct in ipairs({50, 80, 100}) do
    if spent * 100 < pct * tonumber(limit) then redis.call('HDEL', t, 'a' .. pct) end
  end
end
return moved
`;

/**
 * Read a scope's budget and the counter of one period. ARGV: 1 L, 2 scope, 3 period key.
 * Returns {limit or '', spent, reserved, resolved period key}.
 */
export const PEEK = `${LUA_COMMON}
local scope = ARGV[2]
local period = resolve(scope, ARGV[3])
local c = ctr(scope, period)
local limit = redis.call('HGET', L .. ':budget:' .. scope, 'limit') or ''
return {limit, redis.call('HGET', c, 'spent') or '0', redis.call('HGET', c, 'reserved') or '0', period}
`;
