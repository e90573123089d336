/**
 * Lua scripts of the schedule store. Every key shares the deployment's hash-tagged prefix, so they
 * are Redis Cluster safe (the job record read by the overlap check is under the same prefix).
 */

/**
 * Create a schedule record unless it exists. KEYS[1] record, KEYS[2] index; ARGV[1] id,
 * ARGV[2..] field/value pairs. Returns 1 created, 0 existed.
 */
export const CREATE_SCHEDULE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
`;

/**
 * Replace a schedule's definition if its version is still the one read (a PATCH from another API
 * process in between makes this fail, and the caller re-reads and re-applies).
 * KEYS[1] record; ARGV[1] expected version, ARGV[2..] field/value pairs.
 * Returns the new version, 0 on a version mismatch, -1 when missing.
 */
export const UPDATE_SCHEDULE = `
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return redis.call('HINCRBY', KEYS[1], 'version', 1)
`;

/**
 * Decide one occurrence, once. The first call for an occurrence records its outcome (and, for a run,
 * advances the run counter and rotation and counts its estimated cost in the period); any later
 * call (a retry, another worker) gets the same claim back. The caller computed the run from the
 * version and run count it read; if either moved it gets 'conflict' and computes again.
 *
 * KEYS[1] record, KEYS[2] occurrence claim, KEYS[3] history list, KEYS[4] period spend counter
 * ARGV[1] job key prefix ('<prefix>:job:'), ARGV[2] expected version, ARGV[3] expected runs_total,
 * ARGV[4] now ms, ARGV[5] '1' if the schedule is disabled (scheduled runs only), ARGV[6] overlap,
 * ARGV[7] estimate µ$ (-1 unknown), ARGV[8] per-run cap µ$ (-1 none), ARGV[9] per-period cap µ$
 * (-1 none), ARGV[10] '1' to count spend in KEYS[4], ARGV[11] job id, ARGV[12] next rotation index,
 * ARGV[13] claim TTL s, ARGV[14] history length, ARGV[15] row JSON, ARGV[16] job JSON,
 * ARGV[17] '1' if a catch-up, ARGV[18] ms a claimed job without a record counts as in flight,
 * ARGV[19] spend counter TTL s, ARGV[20] the occurrence's scheduled ms (-1 for a manual run).
 * Returns {'claimed'|'existing', claim JSON} or {'conflict'|'missing', ''}.
 */
export const CLAIM_OCCURRENCE = `
local existing = redis.call('GET', KEYS[2])
if existing then return {'existing', existing} end
local rec = redis.call('HMGET', KEYS[1], 'version', 'runs_total', 'last_job_id', 'last_claim_ms', 'last_scheduled_ms')
if not rec[1] then return {'missing', ''} end
if rec[1] ~= ARGV[2] or (rec[2] or '0') ~= ARGV[3] then return {'conflict', ''} end

local now = tonumber(ARGV[4])
local row = cjson.decode(ARGV[15])
local outcome = nil
local reason = cjson.null
local scheduled = tonumber(ARGV[20])
if scheduled >= 0 then
  -- An occurrence older than one already decided (a stalled job re-run after a crash) would be a
  -- second catch-up: there is at most one.
  if scheduled < tonumber(rec[5] or '-1') then outcome = 'skipped_superseded' end
  if scheduled > tonumber(rec[5] or '-1') then redis.call('HSET', KEYS[1], 'last_scheduled_ms', scheduled) end
end
if not outcome and ARGV[5] == '1' then outcome = 'skipped_disabled' end

if not outcome and ARGV[6] == 'skip' and rec[3] and rec[3] ~= '' then
  local status = redis.call('HGET', ARGV[1] .. rec[3], 'status')
  local inflight
  if status then
    inflight = status == 'queued' or status == 'waiting_budget' or status == 'in_progress'
  else
    -- Claimed but its record not written yet (or its worker died in between and will retry).
    inflight = now - tonumber(rec[4] or '0') < tonumber(ARGV[18])
    status = 'queued'
  end
  if inflight then
    outcome = 'skipped_overlap'
    row.blocking_job_id = rec[3]
    row.blocking_job_status = status
  end
end

local estimate = tonumber(ARGV[7])
local capRun = tonumber(ARGV[8])
local capPeriod = tonumber(ARGV[9])
if not outcome and capRun >= 0 then
  if estimate < 0 then
    outcome, reason = 'skipped_budget', 'estimate_unknown'
  elseif estimate > capRun then
    outcome, reason = 'skipped_budget', 'per_run_cap'
  end
end
if ARGV[10] == '1' then
  local spent = tonumber(redis.call('GET', KEYS[4]) or '0')
  row.period_spent_micro_usd = spent
  if not outcome and capPeriod >= 0 then
    if estimate < 0 then
      outcome, reason = 'skipped_budget', 'estimate_unknown'
    elseif spent + estimate > capPeriod then
      outcome, reason = 'skipped_budget', 'per_period_cap'
    end
  end
end

local enqueued = not outcome
if enqueued then
  if ARGV[17] == '1' then outcome = 'caught_up' else outcome = 'enqueued' end
  row.job_id = ARGV[11]
  row.run_number = tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'runs_total', tonumber(ARGV[3]) + 1, 'rotation_index', ARGV[12],
    'last_job_id', ARGV[11], 'last_claim_ms', ARGV[4], 'last_run_at', row.fired_at)
  if ARGV[10] == '1' and estimate > 0 then
    redis.call('INCRBY', KEYS[4], estimate)
    redis.call('EXPIRE', KEYS[4], tonumber(ARGV[19]))
  end
end
row.outcome = outcome
row.reason = reason
redis.call('HINCRBY', KEYS[1], 'occurrences_total', 1)
redis.call('HSET', KEYS[1], 'last_occurrence_at', row.fired_at)

local encoded = cjson.encode(row)
local claim
if enqueued then claim = '{"row":' .. encoded .. ',"job":' .. ARGV[16] .. '}' else claim = '{"row":' .. encoded .. ',"job":null}' end
redis.call('SET', KEYS[2], claim, 'EX', tonumber(ARGV[13]))
redis.call('LPUSH', KEYS[3], encoded)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[14]) - 1)
return {'claimed', claim}
`;
