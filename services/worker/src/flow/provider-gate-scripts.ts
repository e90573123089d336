/**
 * Lua for the provider gate (KEYS[1] is its state hash). Time comes from Redis (`TIME`), so every worker on every machine
 * shares one clock. State hash fields: hold_until (ms), tat (next grant time, ms), rate (calls/s
 * now), streak (throttles in a row), last_decrease / last_increase (ms).
 */
const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Ask for one call (GCRA: grants are spaced evenly, one every `window / rate` ms, with no bursts, so
 * network jitter cannot pile two bursts into one provider second). KEYS[1] state. ARGV[1] max
 * calls/s (0 = no limit), ARGV[2] window ms (one second plus a jitter margin).
 * Returns {wait ms (0 = go), recovering 0|1}.
 */
export const GATE_ACQUIRE = `
${NOW}
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold_until') or '0')
local streak = tonumber(redis.call('HGET', KEYS[1], 'streak') or '0')
if now < hold then return {hold - now, 1} end
local max = tonumber(ARGV[1])
if max <= 0 then return {0, streak > 0 and 1 or 0} end
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ARGV[1])
if rate > max then rate = max end
local recovering = (rate < max or streak > 0) and 1 or 0
local interval = tonumber(ARGV[2]) / rate
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
if tat > now then return {math.ceil(tat - now), recovering} end
redis.call('HSET', KEYS[1], 'tat', tostring(now + interval))
return {0, recovering}
`;

/**
 * The provider throttled us (429/408/timeout). ARGV[1] Retry-After ms or -1, ARGV[2] max wait ms,
 * ARGV[3] backoff base ms, ARGV[4] a random number in [0,1) for full jitter, ARGV[5] max calls/s,
 * ARGV[6] min calls/s, ARGV[7] decrease factor. Holds every caller until the returned time and
 * lowers the rate at most once a second (one storm seen by many workers is one decrease).
 * Returns {hold ms from now, streak, rate as string}.
 */
export const GATE_THROTTLE = `
${NOW}
local streak = redis.call('HINCRBY', KEYS[1], 'streak', 1)
local wait = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
if wait < 0 then
  local ceiling = math.min(maxWait, tonumber(ARGV[3]) * (2 ^ math.min(streak - 1, 20)))
  wait = math.floor(tonumber(ARGV[4]) * ceiling)
end
if wait > maxWait then wait = maxWait end
local holdUntil = now + wait
local current = tonumber(redis.call('HGET', KEYS[1], 'hold_until') or '0')
if holdUntil > current then redis.call('HSET', KEYS[1], 'hold_until', holdUntil) else holdUntil = current end
local max = tonumber(ARGV[5])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ARGV[5])
if max > 0 then
  local lastDecrease = tonumber(redis.call('HGET', KEYS[1], 'last_decrease') or '0')
  if now - lastDecrease >= 1000 then
    rate = math.max(tonumber(ARGV[6]), rate * tonumber(ARGV[7]))
    redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'last_decrease', now)
  end
end
return {holdUntil - now, streak, tostring(rate)}
`;

/**
 * A call succeeded while recovering: end the throttle streak and raise the rate additively, at
 * most once a second. ARGV[1] max calls/s, ARGV[2] increase step calls/s. Returns the rate.
 */
export const GATE_SUCCESS = `
${NOW}
redis.call('HSET', KEYS[1], 'streak', 0)
local max = tonumber(ARGV[1])
if max <= 0 then return '0' end
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ARGV[1])
if rate < max then
  local lastIncrease = tonumber(redis.call('HGET', KEYS[1], 'last_increase') or '0')
  if now - lastIncrease >= 1000 then
    rate = math.min(max, rate + tonumber(ARGV[2]))
    redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'last_increase', now)
  end
end
return tostring(rate)
`;
