/**
 * Lua shared by every ledger script (prepended to each). ARGV[1] is always the ledger's key prefix
 * (`<prefix>:ledger`); every key is built under it, so all keys share the deployment's hash tag.
 *
 * A counter `<L>:ctr:<scope>:<period>` holds `spent` and `reserved` (integer micro-dollars) and
 * the threshold markers `a50`/`a80`/`a100`. When a budget's period or timezone changes, the old
 * current counter gets `fwd = <new period key>`: reservations that still name the old period then
 * settle or release against the counter that now holds their money.
 */
export const LUA_COMMON = `
local L = ARGV[1]
local function ctr(scope, period) return L .. ':ctr:' .. scope .. ':' .. period end
local function resolve(scope, period)
  for _ = 1, 64 do
    local fwd = redis.call('HGET', ctr(scope, period), 'fwd')
    if not fwd then return period end
    period = fwd
  end
  error('ledger: forward chain too long for ' .. scope .. ' ' .. period)
end
local function neg(amount) return '-' .. amount end
`;
