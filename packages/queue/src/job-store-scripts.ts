/**
 * Lua scripts that keep a job record and its indexes consistent in one atomic step. Every key they
 * touch shares the deployment's hash-tagged prefix, so they are Redis Cluster safe.
 * Indexes are sorted sets with score 0, ordered lexicographically by id: ids are time-sortable, so
 * lex order is creation order and an id is an exact pagination cursor.
 */

/**
 * Create a record unless it exists.
 * KEYS[1] record; ARGV[1] prefix, ARGV[2] id, ARGV[3] status, ARGV[4] batch id or '',
 * ARGV[5] schedule id or '', ARGV[6..] field/value pairs. Returns 1 created, 0 existed.
 * The batch store's CREATE_JOBS writes the same record and index entries a chunk at a time: change
 * them together (its test compares the two).
 */
export const CREATE_JOB = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local p, id, status, batch, schedule = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', p .. ':jobs:all', 0, id)
redis.call('ZADD', p .. ':jobs:status:' .. status, 0, id)
if batch ~= '' then
  redis.call('ZADD', p .. ':jobs:batch:' .. batch, 0, id)
  redis.call('HINCRBY', p .. ':batch:' .. batch .. ':counts', status, 1)
end
if schedule ~= '' then redis.call('ZADD', p .. ':jobs:schedule:' .. schedule, 0, id) end
return 1
`;

/**
 * Move a record to a new status if its current status is allowed, setting fields in the same step.
 * KEYS[1] record; ARGV[1] prefix, ARGV[2] id, ARGV[3] allowed current statuses ('a,b' or '*'),
 * ARGV[4] new status ('' keeps it), ARGV[5..] field/value pairs.
 * Returns {1, previous} on success, {0, current} when not allowed, {-1, ''} when missing.
 */
export const TRANSITION_JOB = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {-1, ''} end
local p, id, allowed, to = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if allowed ~= '*' then
  local ok = false
  for s in string.gmatch(allowed, '[^,]+') do
    if s == cur then ok = true end
  end
  if not ok then return {0, cur} end
end
if #ARGV >= 6 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 5))
end
if to ~= '' and to ~= cur then
  redis.call('HSET', KEYS[1], 'status', to)
  redis.call('ZREM', p .. ':jobs:status:' .. cur, id)
  redis.call('ZADD', p .. ':jobs:status:' .. to, 0, id)
  local batch = redis.call('HGET', KEYS[1], 'batch_id')
  if batch and batch ~= '' then
    redis.call('HINCRBY', p .. ':batch:' .. batch .. ':counts', cur, -1)
    redis.call('HINCRBY', p .. ':batch:' .. batch .. ':counts', to, 1)
  end
  redis.call('PUBLISH', p .. ':events', cjson.encode({type = 'job.status', job_id = id, from = cur, to = to, batch_id = batch or ''}))
end
return {1, cur}
`;

/**
 * Claim the right to submit a job to the provider, so two workers that both hold the job (a lock
 * lost while the first was starved of CPU) can never both submit. The claim reads `claimed` until
 * the caller marks the request as leaving (`submitting`), and carries the claimer's token: only
 * that token may change the claim's fields afterwards (UPDATE_SUBMIT_CLAIM), so a holder whose
 * lease lapsed and was taken over finds out instead of writing over the new holder.
 * KEYS[1] record; ARGV[1] lease ms, ARGV[2] token.
 * Returns 'ok' (claimed), 'busy' (another holder's lease is live: back off), 'stale' (a lease that
 * expired without an answer: its submit's outcome is unknown), 'missing', or 'submitted' (a
 * request id is already recorded).
 */
export const CLAIM_SUBMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local request = redis.call('HGET', KEYS[1], 'request_id')
if request and request ~= '' then return 'submitted' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'submit_state')
local lease = tonumber(redis.call('HGET', KEYS[1], 'submit_lease_until') or '0')
local held = state == 'claimed' or state == 'submitting'
if held and now < lease then return 'busy' end
redis.call('HSET', KEYS[1], 'submit_state', 'claimed', 'submit_lease_until', tostring(now + tonumber(ARGV[1])), 'submit_token', ARGV[2])
-- Only a claim that got as far as sending ('submitting') has an unknown outcome; an expired
-- 'claimed' never sent anything.
if state == 'submitting' then return 'stale' end
return 'ok'
`;

/**
 * Set fields of a job as the holder of its submit claim, and only as that holder.
 * KEYS[1] record; ARGV[1] token, ARGV[2] lease ms to renew from now (0 keeps it), ARGV[3] '1' to
 * end the claim (its token is removed: nothing more may be written under it), ARGV[4..]
 * field/value pairs. Returns 1 when written, 0 when the token no longer holds the claim.
 */
export const UPDATE_SUBMIT_CLAIM = `
if redis.call('HGET', KEYS[1], 'submit_token') ~= ARGV[1] then return 0 end
if #ARGV >= 5 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
local lease = tonumber(ARGV[2])
if lease > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'submit_lease_until', tostring(now + lease))
end
if ARGV[3] == '1' then redis.call('HDEL', KEYS[1], 'submit_token') end
return 1
`;
