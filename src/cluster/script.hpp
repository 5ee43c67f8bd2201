// The arbiter: one Lua script, run atomically by Redis, for every step a
// member takes (renew, release, ask, leave, stats). All its keys share the
// lane's hash tag {prefix:name}, so on Redis Cluster they live in one slot.
//
// KEYS: 1 slots   hash  grant -> "member\tcost\ttenant" (a grant is its
//                       fence number; cost: what the cost limit charged it)
//       2 members zset  member -> lease end (ms, Redis clock)
//       3 fence   string the last fence number handed out
//       4 waiters hash  member -> "want\tpriority\tsince\tcost\ttenant"
//       5 tenants hash  tenant -> grants held
//       6 config  hash  max (the lane's cap), seq (the waiters' order), and
//                       per rate limit k (rate: requests, cost): k_t (us per
//                       unit), k_b (burst, units), k_tat (us)
//       7 quota   hash  shared tenant limits: "l\ttenant" -> limit,
//                       "t\ttenant" -> held by all, "h\tmember\ttenant" ->
//                       held by one, "w\tmember\ttenant" -> "want\tsince"
// ARGV: 1 member id, 2 lease ms, 3 slots wanted beyond those held,
//       4 priority, 5 tenant and 16 cost (units; 0: none, a regrant) of the
//       member's next job, 6 cap (> 0 sets it), 7 channel prefix, 8 lane
//       name, 9 "1" to leave, 10-12 the requests and 13-15 the cost rate
//       limit (amount, per ns, burst; "-" keeps it, amount 0 removes it),
//       17 a signed correction of the member's earlier cost charges (the
//       jobs' real costs against what their grants were charged), 18 n, the
//       number of shared tenant limits the member has, then n triples
//       (tenant, its limit or "-" to keep it, how much of it the member
//       needs: running plus waiting on it), then releases.
// Returns {grants the member holds, releases refused, grants held by all,
//          slots waited for by all, cap, ms until the rate limits let the
//          next grant go (0: they do not hold one back), the cost charged
//          to each grant the member holds (same order as the first), 1 if
//          the lane has a cost limit (else 0), {tenant, held} for each
//          tenant limit the member sent}.
//
// Order of grants: while grants held < cap, the waiter whose next job has
// the highest priority, then whose tenant holds the fewest grants, then
// that has waited longest (a waiter that got one goes behind the others of
// its rank) gets one grant, if the lane's rate limits let it. A shared
// tenant limit is granted apart, as a quota: while the tenant's quota held
// by all is below its limit, the member that has waited longest for it (a
// member that got one goes last) gets one; a member holds no more than it
// needs (what it sends back is released at once), so sum of held <= limit. Each is a
// GCRA on Redis's clock (emission interval T = per / amount per unit,
// burst B units): a grant that costs c units (1 for requests, the waiter's
// cost for cost) conforms when max(tat, now) - now <= (B - c) * T, and
// then moves tat to max(tat, now) + c * T. A correction d moves tat by
// d * T (a refund never below min(tat, now)). So over any window of length
// w the lane's members together are charged at most B + amount * w / per
// units, plus the refunds in the window. A member whose lease has ended
// loses its grants and its place first (what they were charged stays
// charged). Fence numbers never repeat: each is above the last and at least
// the Redis clock in microseconds, so a restarted Redis that lost its data
// still hands out larger ones.
#pragma once

namespace lane::cluster {

inline constexpr const char *kArbiterScript = R"lua(
local slots, members, fencek, waiters, tenants, cfg, quota = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local me = ARGV[1]
local nq = tonumber(ARGV[18])
local first_release = 19 + 3 * nq
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])

-- a slot's value "member\tcost\ttenant" -> member, tenant, cost
local function owner(v)
  local i = string.find(v, '\t', 1, true)
  local j = string.find(v, '\t', i + 1, true)
  return string.sub(v, 1, i - 1), string.sub(v, j + 1), string.sub(v, i + 1, j - 1)
end
local function drop(g, tenant)
  redis.call('HDEL', slots, g)
  if redis.call('HINCRBY', tenants, tenant, -1) <= 0 then redis.call('HDEL', tenants, tenant) end
end

-- every tenant quota the member m holds or waits for goes
local function drop_quota(m)
  local ph, pw = 'h\t' .. m .. '\t', 'w\t' .. m .. '\t'
  local all = redis.call('HGETALL', quota)
  for i = 1, #all, 2 do
    local f = all[i]
    if string.sub(f, 1, #ph) == ph then
      local tk = 't\t' .. string.sub(f, #ph + 1)
      redis.call('HDEL', quota, f)
      if redis.call('HINCRBY', quota, tk, -tonumber(all[i + 1])) <= 0 then redis.call('HDEL', quota, tk) end
    elseif string.sub(f, 1, #pw) == pw then
      redis.call('HDEL', quota, f)
    end
  end
end

local dead = redis.call('ZRANGEBYSCORE', members, '-inf', now)
if #dead > 0 then
  local gone = {}
  for _, m in ipairs(dead) do
    gone[m] = true
    redis.call('ZREM', members, m)
    redis.call('HDEL', waiters, m)
    drop_quota(m)
  end
  local all = redis.call('HGETALL', slots)
  for i = 1, #all, 2 do
    local m, tn = owner(all[i + 1])
    if gone[m] then drop(all[i], tn) end
  end
end

local refused = 0
for i = first_release, #ARGV do
  local v = redis.call('HGET', slots, ARGV[i])
  local m, tn = nil, nil
  if v then m, tn = owner(v) end
  if m == me then drop(ARGV[i], tn) else refused = refused + 1 end
end

if ARGV[9] == '1' then
  local all = redis.call('HGETALL', slots)
  for i = 1, #all, 2 do
    local m, tn = owner(all[i + 1])
    if m == me then drop(all[i], tn) end
  end
  redis.call('ZREM', members, me)
  redis.call('HDEL', waiters, me)
  drop_quota(me)
else
  redis.call('ZADD', members, now + tonumber(ARGV[2]), me)
  local want = tonumber(ARGV[3])
  if want > 0 then
    local since
    local old = redis.call('HGET', waiters, me)
    if old then
      local a = string.find(old, '\t', 1, true)
      local b = string.find(old, '\t', a + 1, true)
      local c = string.find(old, '\t', b + 1, true)
      since = string.sub(old, b + 1, c - 1)
    else
      since = redis.call('HINCRBY', cfg, 'seq', 1)
    end
    redis.call('HSET', waiters, me, want .. '\t' .. ARGV[4] .. '\t' .. since .. '\t' .. ARGV[16] .. '\t' .. ARGV[5])
  else
    redis.call('HDEL', waiters, me)
  end
  -- The member's shared tenant limits: keep what it needs, wait for the rest.
  for k = 0, nq - 1 do
    local tn, lim, need = ARGV[19 + 3 * k], ARGV[20 + 3 * k], tonumber(ARGV[21 + 3 * k])
    if lim ~= '-' and tonumber(lim) > 0 then redis.call('HSET', quota, 'l\t' .. tn, lim) end
    local hf, wf, tk = 'h\t' .. me .. '\t' .. tn, 'w\t' .. me .. '\t' .. tn, 't\t' .. tn
    local held = tonumber(redis.call('HGET', quota, hf) or '0')
    if need < held then
      if need > 0 then redis.call('HSET', quota, hf, need) else redis.call('HDEL', quota, hf) end
      if redis.call('HINCRBY', quota, tk, need - held) <= 0 then redis.call('HDEL', quota, tk) end
      held = need
    end
    if need > held then
      local old = redis.call('HGET', quota, wf)
      local since
      if old then
        since = string.sub(old, string.find(old, '\t', 1, true) + 1)
      else
        since = redis.call('HINCRBY', cfg, 'seq', 1)
      end
      redis.call('HSET', quota, wf, (need - held) .. '\t' .. since)
    else
      redis.call('HDEL', quota, wf)
    end
  end
end

if tonumber(ARGV[6]) > 0 then redis.call('HSET', cfg, 'max', ARGV[6]) end
-- The rate limits: k = 'rate' (requests) or 'cost'.
local function set_limit(k, a, p, b)
  if a == '-' then return end
  local amount, per_ns, burst = tonumber(a), tonumber(p), tonumber(b)
  if amount > 0 and per_ns > 0 then
    local t_us = per_ns / 1000 / amount
    burst = math.max(burst, 1)
    local ot = tonumber(redis.call('HGET', cfg, k .. '_t') or '0')
    local ob = tonumber(redis.call('HGET', cfg, k .. '_b') or '0')
    if math.abs(ot - t_us) > 1e-6 or ob ~= burst then
      -- a new limit starts with a full burst
      redis.call('HSET', cfg, k .. '_t', string.format('%.6f', t_us), k .. '_b', burst,
                 k .. '_tat', string.format('%.0f', floor))
    end
  else
    redis.call('HDEL', cfg, k .. '_t', k .. '_b', k .. '_tat')
  end
end
local function get_limit(k)
  return {k = k, t = tonumber(redis.call('HGET', cfg, k .. '_t') or '0'),
          b = tonumber(redis.call('HGET', cfg, k .. '_b') or '0'),
          tat = tonumber(redis.call('HGET', cfg, k .. '_tat') or '0')}
end
-- us until c units conform (0: now)
local function wait_for(l, c)
  local w = math.max(l.tat, floor) - floor - (l.b - c) * l.t
  if w > 0 then return w end
  return 0
end
set_limit('rate', ARGV[10], ARGV[11], ARGV[12])
set_limit('cost', ARGV[13], ARGV[14], ARGV[15])
local rate, cost = get_limit('rate'), get_limit('cost')
local delta = tonumber(ARGV[17])
if cost.t > 0 and delta ~= 0 then
  if delta > 0 then
    cost.tat = math.max(cost.tat, floor) + delta * cost.t
  else
    cost.tat = math.max(cost.tat + delta * cost.t, math.min(cost.tat, floor))
  end
end
local rate_wait_us = 0
local max = tonumber(redis.call('HGET', cfg, 'max') or '1')
local used = redis.call('HLEN', slots)

local w = {}
local raw = redis.call('HGETALL', waiters)
for i = 1, #raw, 2 do
  local v = raw[i + 1]
  local a = string.find(v, '\t', 1, true)
  local b = string.find(v, '\t', a + 1, true)
  local c = string.find(v, '\t', b + 1, true)
  local d = string.find(v, '\t', c + 1, true)
  w[#w + 1] = {m = raw[i], want = tonumber(string.sub(v, 1, a - 1)), prio = tonumber(string.sub(v, a + 1, b - 1)),
               since = tonumber(string.sub(v, b + 1, c - 1)), cost = tonumber(string.sub(v, c + 1, d - 1)),
               tenant = string.sub(v, d + 1), changed = false}
end
local held = {}
local function tenant_held(tn)
  if held[tn] == nil then held[tn] = tonumber(redis.call('HGET', tenants, tn) or '0') end
  return held[tn]
end
local function better(x, y)
  if x.prio ~= y.prio then return x.prio > y.prio end
  local hx, hy = tenant_held(x.tenant), tenant_held(y.tenant)
  if hx ~= hy then return hx < hy end
  return x.since < y.since
end
local notify = {}
while used < max do
  local best = nil
  for _, x in ipairs(w) do
    if x.want > 0 and (best == nil or better(x, best)) then best = x end
  end
  if best == nil then break end
  local c = 0
  if cost.t > 0 and best.cost > 0 then c = math.min(best.cost, cost.b) end
  local wait = 0
  if rate.t > 0 then wait = wait_for(rate, 1) end
  if c > 0 then wait = math.max(wait, wait_for(cost, c)) end
  if wait > 0 then
    rate_wait_us = wait
    break
  end
  if rate.t > 0 then rate.tat = math.max(rate.tat, floor) + rate.t end
  if c > 0 then cost.tat = math.max(cost.tat, floor) + c * cost.t end
  local f = redis.call('INCR', fencek)
  if f < floor then
    f = floor
    redis.call('SET', fencek, string.format('%.0f', floor))
  end
  local g = string.format('%.0f', f)
  redis.call('HSET', slots, g, best.m .. '\t' .. c .. '\t' .. best.tenant)
  redis.call('HINCRBY', tenants, best.tenant, 1)
  held[best.tenant] = tenant_held(best.tenant) + 1
  best.want = best.want - 1
  best.since = redis.call('HINCRBY', cfg, 'seq', 1)
  best.changed = true
  used = used + 1
  if best.m ~= me then notify[best.m] = true end
end
-- Tenant quotas: the longest waiter of each tenant first.
local qw = {}
local qall = redis.call('HGETALL', quota)
for i = 1, #qall, 2 do
  local f = qall[i]
  if string.sub(f, 1, 2) == 'w\t' then
    local j = string.find(f, '\t', 3, true)
    local tn, v = string.sub(f, j + 1), qall[i + 1]
    local a = string.find(v, '\t', 1, true)
    if qw[tn] == nil then qw[tn] = {} end
    table.insert(qw[tn], {m = string.sub(f, 3, j - 1), want = tonumber(string.sub(v, 1, a - 1)),
                          since = tonumber(string.sub(v, a + 1))})
  end
end
for tn, list in pairs(qw) do
  local limit = tonumber(redis.call('HGET', quota, 'l\t' .. tn) or '0')
  local total = tonumber(redis.call('HGET', quota, 't\t' .. tn) or '0')
  local granted = false
  while total < limit do
    local best = nil
    for _, x in ipairs(list) do
      if x.want > 0 and (best == nil or x.since < best.since) then best = x end
    end
    if best == nil then break end
    redis.call('HINCRBY', quota, 'h\t' .. best.m .. '\t' .. tn, 1)
    total = total + 1
    best.want = best.want - 1
    best.since = redis.call('HINCRBY', cfg, 'seq', 1)
    best.changed = true
    granted = true
    if best.m ~= me then notify[best.m] = true end
  end
  if granted then
    redis.call('HSET', quota, 't\t' .. tn, total)
    for _, x in ipairs(list) do
      if x.changed then
        local wf = 'w\t' .. x.m .. '\t' .. tn
        if x.want > 0 then redis.call('HSET', quota, wf, x.want .. '\t' .. x.since) else redis.call('HDEL', quota, wf) end
      end
    end
  end
end

for _, l in ipairs({rate, cost}) do
  if l.t > 0 then redis.call('HSET', cfg, l.k .. '_tat', string.format('%.3f', l.tat)) end
end
local queued = 0
for _, x in ipairs(w) do
  if x.changed then
    if x.want > 0 then
      redis.call('HSET', waiters, x.m, x.want .. '\t' .. x.prio .. '\t' .. x.since .. '\t' .. x.cost .. '\t' .. x.tenant)
    else
      redis.call('HDEL', waiters, x.m)
    end
  end
  queued = queued + x.want
end
for m, _ in pairs(notify) do redis.call('PUBLISH', ARGV[7] .. m, ARGV[8]) end

local mine, costs = {}, {}
local all = redis.call('HGETALL', slots)
for i = 1, #all, 2 do
  local m, _, c = owner(all[i + 1])
  if m == me then
    mine[#mine + 1] = all[i]
    costs[#costs + 1] = c
  end
end
local wait_ms = 0
if rate_wait_us > 0 and queued > 0 then wait_ms = math.ceil(rate_wait_us / 1000) end
local quotas = {}
if ARGV[9] ~= '1' then
  for k = 0, nq - 1 do
    local tn = ARGV[19 + 3 * k]
    quotas[#quotas + 1] = tn
    quotas[#quotas + 1] = tonumber(redis.call('HGET', quota, 'h\t' .. me .. '\t' .. tn) or '0')
  end
end
return {mine, refused, used, queued, max, wait_ms, costs, cost.t > 0 and 1 or 0, quotas}
)lua";

}  // namespace lane::cluster
