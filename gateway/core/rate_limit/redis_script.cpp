#include "gateway/core/rate_limit/redis_script.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

#include "gateway/core/decimal.hpp"
#include "gateway/core/int128.hpp"
#include "gateway/core/rate.hpp"
#include "gateway/core/rate_limit/limiter.hpp"

// How the script stays exact with doubles (every rule below is relied on by the Lua code):
// - Every value the script computes is an integer of magnitude below 2^53, where double
//   arithmetic (+, -, *) is exact, and floor(a / b) and ceil(a / b) of such integers (b > 0) are
//   exact too: a correctly rounded quotient never crosses the integer next to the true one.
// - Absolute times travel as (seconds, nanoseconds in [0, 1e9)). The script only subtracts them,
//   and clamps a difference to [-BMAX, FMAX] = [-1e15, 8e15] ns: a gap longer than FMAX decides
//   like any gap longer than every horizon (validateForRedis keeps horizons <= kMaxHorizonNs, 40
//   days, and 2 x 40 days <= FMAX for the sliding counter's two windows). Backward steps are
//   exact up to BMAX (11.6 days); sums like "back step + 2 windows" stay below 2^53.
// - The sliding window counter compares and divides products above 2^53 (prev x (window -
//   elapsed) against room x window); the script computes those products exactly as two 52-bit
//   limbs and corrects a floating-point quotient estimate until it is the exact floor. Its
//   counts are held at min(limit x window + 1, 2^51): all counts above limit x window decide
//   alike, so this is exact unless limit x window >= 2^51 and a window counts 2^51 units
//   (count_rejected only).
// - State read from Redis that does not parse (or is out of range) is an error reply, as is a
//   division whose correction does not converge: never a wrong decision or an endless loop.
//
// Argv (all decimal integers):
//   ARGV[1..5]  now: seconds (floor), nanoseconds in [0, 1e9), milliseconds (floor), nanoseconds
//               past that millisecond; TTL slack in ms added to every expiry
//   per limit i (1-based), at 5 + 8 (i - 1) + 1 ...:
//     code (1 token_bucket, 2 discrete, 3 leaky, 4 fixed, 5 log, 6 counter, 7 gcra), limit,
//     window ns, need (what one request takes from the state: cost x p, cost x 1000 or cost),
//     and four algorithm parameters:
//       token_bucket, gcra: c, p, burst x p      (rate = c/p per ns after dividing by the gcd)
//       discrete:           interval ns, tokens per fill, start of now's fill interval (s, ns)
//       leaky:              rate in milli-requests/s, burst x 1000, delay x 1000 (-1: nodelay)
//       fixed:              1 clock-aligned / 0 first-request, start of now's clock window (s, ns)
//       counter:            1 count rejected / 0 not, start of now's window (s, ns)
// State under each limit's key (a string of space-separated integers; times as seconds and
// nanoseconds): token_bucket "level lastS lastNs", discrete "tokens fillS fillNs", leaky "excess
// lastMs", fixed "count startS startNs", counter "prev curr startS startNs", gcra "frac tatS
// tatNs"; sliding_window_log a list: [total units, then "atS atNs cost" per record, oldest first].
// Each state is written with PX = ceil(ns until Algorithm::idle holds / 1e6) + 1 + slack; the
// +1 ms covers Redis's millisecond clock.

namespace gatelab::core::ratelimit::redis {

namespace {

__extension__ using I128 = __int128;

constexpr std::int64_t kNsPerSec = 1'000'000'000;
constexpr std::int64_t kNsPerMs = 1'000'000;
/// The longest window, refill-from-empty or drain time a Redis-stored limit may have.
constexpr std::int64_t kMaxHorizonNs = std::int64_t{40} * 24 * 3600 * kNsPerSec;
/// Largest scaled quantity (burst x p, tokens) the script handles.
constexpr std::uint64_t kMaxUnits = std::uint64_t{1} << 52;
/// nginx-style leaky bucket: largest rate (milli-requests per second) and burst.
constexpr std::uint64_t kMaxLeakyRateMilli = 1'000'000'000'000'000;
constexpr std::uint64_t kMaxLeakyBurst = 1'000'000'000;
/// Added to every expiry: absorbs clock differences between gateway instances (a state written by
/// an instance whose clock runs ahead is still there for one that runs behind).
constexpr std::int64_t kTtlSlackMs = 1000;

constexpr std::size_t kHeaderArgs = 5;
constexpr std::size_t kArgsPerLimit = 8;
constexpr std::size_t kReplyPerLimit = 7;
/// No value the script returns can reach 2^53.
constexpr std::int64_t kMaxReplyValue = std::int64_t{1} << 53;

constexpr std::string_view kScript = R"LUA(-- gatelab rate-limit policy: gateway/core/rate_limit/redis_script.{hpp,cpp} hold the contract.
local A, K = ARGV, KEYS
local floor, ceil, fmt, match, tonum, call = math.floor, math.ceil, string.format, string.match, tonumber, redis.call
-- Numbers from ARGV and from stored state are converted with `s + 0`: one string-to-number
-- conversion, where tonumber(s) makes two (it tests, then converts); both are exact for the
-- decimal integers below 2^53 this script is given or has written. (The sliding log's header
-- keeps tonumber: an unreadable one must give nil there, not an error of its own.)
local nowS, nowN = A[1] + 0, A[2] + 0
local FMAX, BMAX = 8e15, 1e15
local B26, B52, B53, SAT = 67108864, 4503599627370496, 9007199254740992, 2251799813685248
local P1 = '^(%-?%d+)$'
local P2 = '^(%-?%d+) (%-?%d+)$'
local P3 = '^(%-?%d+) (%-?%d+) (%-?%d+)$'
local P4 = '^(%-?%d+) (%-?%d+) (%-?%d+) (%-?%d+)$'
local pv, pt, pl = {}, {}, {}
-- Which algorithms this call uses (by code, as given): only their functions are made (a function
-- in a script is a new closure on every call).
local used = {}
for i = 1, #K do used[A[6 + (i - 1) * 8]] = true end

local function bad(i) error('gatelab: unreadable rate-limit state under ' .. K[i]) end

-- (as, an) - (bs, bn) in ns, clamped to [-BMAX, FMAX]
local function sub(as, an, bs, bn)
  local ds = as - bs
  if ds > 8000001 then return FMAX end
  if ds < -8000001 then return -BMAX end
  local d = ds * 1e9 + (an - bn)
  if d > FMAX then return FMAX end
  if d < -BMAX then return -BMAX end
  return d
end
local function age(s, n) return sub(nowS, nowN, s, n) end
local function plus(s, n, d)
  local t = n + d
  local q = floor(t / 1e9)
  return s + q, t - q * 1e9
end

local function load(i, pat)
  local v = call('GET', K[i])
  if not v then return nil end
  local a, b, c, d = match(v, pat)
  if not a then bad(i) end
  return a + 0, b + 0, c and c + 0, d and d + 0
end

local mul, mulLE, mulDiv, tokenBucket, discrete, leaky, fixed, slidingLog, counter, gcra
-- a * b as h * 2^52 + l, exactly, for integers 0 <= a, b < 2^52
if used['6'] then mul = function(a, b)
  local a1 = floor(a / B26)
  local a0 = a - a1 * B26
  local b1 = floor(b / B26)
  local b0 = b - b1 * B26
  local m = a1 * b0 + a0 * b1
  local mh = floor(m / B26)
  local l = (m - mh * B26) * B26 + a0 * b0
  local cy = floor(l / B52)
  return a1 * b1 + mh + cy, l - cy * B52
end end
if used['6'] then mulLE = function(a, b, c, d)
  local x, y = a * b, c * d
  if x < B53 and y < B53 then return x <= y end
  local h1, l1 = mul(a, b)
  local h2, l2 = mul(c, d)
  return h1 < h2 or (h1 == h2 and l1 <= l2)
end end
-- floor(a * b / c), and whether a remainder is left; the result must be below 2^52
if used['6'] then mulDiv = function(a, b, c)
  local x = a * b
  if x < B53 then
    local q = floor(x / c)
    return q, x - q * c > 0
  end
  local h, l = mul(a, b)
  local q = floor(x / c)
  for _ = 1, 64 do
    local qh, ql = mul(q, c)
    if qh > h or (qh == h and ql > l) then
      q = q - 1
    else
      local rh, rl = h - qh, l - ql
      if rl < 0 then rh, rl = rh - 1, rl + B52 end
      if rh == 0 and rl < c then return q, rl > 0 end
      q = q + 1
    end
  end
  error('gatelab: inexact division (operands out of range)')
end end

if used['1'] then tokenBucket = function(i, b)
  local need, c, p, capU = A[b + 4] + 0, A[b + 5] + 0, A[b + 6] + 0, A[b + 7] + 0
  local level, ls, ln = load(i, P3)
  local e = 1
  if level then
    e = age(ls, ln)
    local deficit = capU - level
    local el = e > 0 and e or 0
    if deficit <= 0 or el >= ceil(deficit / c) then level = capU else level = level + el * c end
  else
    level = capU
  end
  if level < need then
    return 2, 0, floor(level / p), ceil((capU - level) / c), ceil((need - level) / c)
  end
  level = level - need
  local ahead = 0
  if e > 0 then ls, ln = nowS, nowN else ahead = -e end
  pv[i] = fmt('%d %d %d', level, ls, ln)
  pt[i] = ahead + ceil((capU - level) / c)
  return 0, 0, floor(level / p), ceil((capU - level) / c), 0
end end

if used['2'] then discrete = function(i, b)
  local cap, need, iv, per = A[b + 2] + 0, A[b + 4] + 0, A[b + 5] + 0, A[b + 6] + 0
  local ks, kn = A[b + 7] + 0, A[b + 8] + 0
  local tokens, fs, fn = load(i, P3)
  if tokens then
    local dk = sub(ks, kn, fs, fn)
    if dk > 0 then
      local fills = floor(dk / iv)
      local needed = ceil((cap - tokens) / per)
      if fills >= needed then tokens = cap else tokens = tokens + fills * per end
      fs, fn = ks, kn
    end
  else
    tokens, fs, fn = cap, ks, kn
  end
  local toNext = iv - age(fs, fn)
  if tokens < need then
    local full = ceil((cap - tokens) / per)
    return 2, 0, tokens, toNext + (full - 1) * iv, toNext + (ceil((need - tokens) / per) - 1) * iv
  end
  tokens = tokens - need
  local full = ceil((cap - tokens) / per)
  pv[i] = fmt('%d %d %d', tokens, fs, fn)
  pt[i] = full * iv - age(fs, fn)
  return 0, 0, tokens, full == 0 and 0 or toNext + (full - 1) * iv, 0
end end

if used['3'] then leaky = function(i, b)
  local nowMs, nowSub = A[3] + 0, A[4] + 0
  local charge, rate, bm, dm = A[b + 4] + 0, A[b + 5] + 0, A[b + 6] + 0, A[b + 7] + 0
  local se, last = load(i, P2)
  local excess, before, ms, newLast
  if se then
    ms = nowMs - last
    if ms < -60000 then ms = 1 elseif ms < 0 then ms = 0 end
    local t = se + charge
    local drain = t
    if ms < ceil(t * 1000 / rate) then drain = floor(rate * ms / 1000) end
    before = drain >= se and 0 or se - drain
    excess = drain >= t and 0 or t - drain
    newLast = ms ~= 0 and nowMs or last
  else
    se, excess, before, ms, newLast = 0, charge - 1000, 0, 0, nowMs
  end
  if excess > bm then
    local wait = ceil((se + charge - bm) * 1000 / rate) - ms
    if wait < 1 then wait = 1 end
    return 2, 0, floor((bm - before) / 1000), ceil(before * 1000 / rate) * 1e6, wait * 1e6 - nowSub
  end
  pv[i] = fmt('%d %d', excess, newLast)
  local h = ceil(excess * 1000 / rate)
  if h < 60000 then h = 60000 end
  pt[i] = (newLast - nowMs + h) * 1e6 - nowSub
  local verdict, delay = 0, 0
  if dm >= 0 and excess > dm then
    delay = floor((excess - dm) * 1000 / rate) * 1e6
    if delay > 0 then verdict = 1 end
  end
  return verdict, delay, floor((bm - excess) / 1000), ceil(excess * 1000 / rate) * 1e6, 0
end end

if used['4'] then fixed = function(i, b)
  local L, W, cost = A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  local count, ss, sn = load(i, P3)
  local e
  if count then e = age(ss, sn) end
  if not count or e >= W then
    count = 0
    if A[b + 5] == '1' then ss, sn = A[b + 6] + 0, A[b + 7] + 0 else ss, sn = nowS, nowN end
    e = age(ss, sn)
  end
  local toEnd = W - e
  if count + cost > L then
    return 2, 0, L - count, count == 0 and 0 or toEnd, toEnd
  end
  count = count + cost
  pv[i] = fmt('%d %d %d', count, ss, sn)
  pt[i] = toEnd
  return 0, 0, L - count, toEnd, 0
end end

if used['5'] then slidingLog = function(i, b)
  local L, W, cost = A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  local key = K[i]
  local hdr = call('LINDEX', key, 0)
  local total, size = 0, 0
  if hdr then
    total = tonum(match(hdr, P1) or '')
    if not total then bad(i) end
    size = call('LLEN', key) - 1
  end
  local rs, rn, rc, got = {}, {}, {}, 0
  local function rec(j)
    if j > got then
      local upto = got + (got < 16 and 16 or got)
      if upto > size then upto = size end
      local arr = call('LRANGE', key, got + 1, upto)
      if #arr ~= upto - got then bad(i) end
      for k = 1, #arr do
        local x, y, z = match(arr[k], P3)
        if not x then bad(i) end
        rs[got + k], rn[got + k], rc[got + k] = x + 0, y + 0, z + 0
      end
      got = upto
    end
    return rs[j], rn[j], rc[j]
  end
  local e, gone = 0, 0
  while e < size do
    local s, n, c = rec(e + 1)
    if age(s, n) < W then break end
    e, gone = e + 1, gone + c
  end
  local tot = total - gone
  local ls, ln, lc
  if size > e then
    if size <= got then
      ls, ln, lc = rs[size], rn[size], rc[size]
    else
      local x, y, z = match(call('LINDEX', key, -1), P3)
      if not x then bad(i) end
      ls, ln, lc = x + 0, y + 0, z + 0
    end
  end
  if tot + cost <= L then
    local ts, tn, merge = nowS, nowN, false
    if ls and age(ls, ln) <= 0 then ts, tn, merge = ls, ln, true end
    local nt = tot + cost
    pl[i] = {hdr and true or false, e, nt, merge, ts, tn, merge and lc + cost or cost}
    pt[i] = W - age(ts, tn)
    return 0, 0, L - nt, W - age(ts, tn), 0
  end
  local must, freed, retry = tot + cost - L, 0, W
  for j = e + 1, size do
    local s, n, c = rec(j)
    freed = freed + c
    if freed >= must then
      retry = W - age(s, n)
      break
    end
  end
  return 2, 0, L - (tot < L and tot or L), ls and W - age(ls, ln) or 0, retry
end end

if used['6'] then counter = function(i, b)
  local L, w, cost = A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  local prev, curr, ss, sn = load(i, P4)
  if prev then
    if prev < 0 or prev > SAT or curr < 0 or curr > SAT then bad(i) end
    local e = age(ss, sn)
    if e >= w then
      if e < 2 * w then prev, ss, sn = curr, plus(ss, sn, w) else prev, ss, sn = 0, A[b + 6] + 0, A[b + 7] + 0 end
      curr = 0
    end
  else
    prev, curr, ss, sn = 0, 0, A[b + 6] + 0, A[b + 7] + 0
  end
  local toStart = -age(ss, sn)
  local wp = toStart < 0 and w + toStart or w
  local admit = curr + cost <= L and (prev == 0 or mulLE(prev, wp, L - curr - cost, w))
  if admit or A[b + 5] == '1' then
    curr = curr + cost
    -- Counts above limit x window all decide alike; 2^51 bounds the exact arithmetic.
    local cap = L * w + 1
    if cap > SAT then cap = SAT end
    if curr > cap then curr = cap end
  end
  pv[i] = fmt('%d %d %d %d', prev, curr, ss, sn)
  pt[i] = toStart + 2 * w
  local rem = 0
  if curr < L then
    local q, r = mulDiv(prev, wp, w)
    if r then q = q + 1 end
    rem = L - curr - q
    if rem < 0 then rem = 0 end
  end
  local reset = 0
  if curr > 0 then reset = toStart + 2 * w elseif prev > 0 then reset = toStart + w end
  if admit then return 0, 0, rem, reset, 0 end
  local retry
  if curr + cost <= L and prev > 0 and L - curr - cost < prev then
    local mw = mulDiv(L - curr - cost, w, prev)
    if mw > 0 then retry = toStart + w - mw end
  end
  if not retry then
    local e2 = 0
    if curr > 0 and L - cost < curr then e2 = w - mulDiv(L - cost, w, curr) end
    retry = toStart + w + e2
  end
  return 2, 0, rem, reset, retry
end end

if used['7'] then gcra = function(i, b)
  local W, need, c, p, lim = A[b + 3] + 0, A[b + 4] + 0, A[b + 5] + 0, A[b + 6] + 0, A[b + 7] + 0
  local frac, ts, tn = load(i, P3)
  local ahead = 0
  if frac then
    local d = -age(ts, tn)
    if d > 0 or (d == 0 and frac > 0) then
      if d > W then
        -- So far ahead that it rejects; (d * c + frac) / c is taken apart to stay below 2^53.
        return 2, 0, 0, d + (frac > 0 and 1 or 0), d + ceil((frac + need - lim) / c)
      end
      ahead = d * c + frac
    end
  end
  local after = ahead + need
  if after > lim then
    return 2, 0, ahead >= lim and 0 or floor((lim - ahead) / p), ceil(ahead / c), ceil((after - lim) / c)
  end
  local q = floor(after / c)
  local r = after - q * c
  local s, n = plus(nowS, nowN, q)
  pv[i] = fmt('%d %d %d', r, s, n)
  pt[i] = q + (r > 0 and 1 or 0)
  return 0, 0, floor((lim - after) / p), ceil(after / c), 0
end end

local function write(i)
  local ttl = pt[i]
  if not ttl then return end
  if ttl < 0 then ttl = 0 end
  local px = fmt('%d', ceil(ttl / 1e6) + 1 + (A[5] + 0))
  local l = pl[i]
  if not l then
    call('SET', K[i], pv[i], 'PX', px)
    return
  end
  local key = K[i]
  if l[1] then
    if l[2] > 0 then call('LTRIM', key, l[2], -1) end
    call('LSET', key, 0, fmt('%d', l[3]))
  else
    call('RPUSH', key, fmt('%d', l[3]))
  end
  local r = fmt('%d %d %d', l[5], l[6], l[7])
  if l[4] then call('LSET', key, -1, r) else call('RPUSH', key, r) end
  call('PEXPIRE', key, px)
end

local n = #K
local out = n == 1 and {1, 0, 0, 0, 0, 0, 0, 0} or {n}  -- (one limit: made at its final size)
for i = 1, n do
  local b = 5 + (i - 1) * 8
  local code = A[b + 1]
  local f = code == '1' and tokenBucket or code == '2' and discrete or code == '3' and leaky or code == '4' and fixed or
    code == '5' and slidingLog or code == '6' and counter or code == '7' and gcra
  if not f then error('gatelab: unknown rate-limit algorithm code ' .. tostring(A[b + 1])) end
  local v, d, rem, rst, ra = f(i, b)
  local o = 1 + (i - 1) * 7
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = v, d, A[b + 2] + 0, rem
  out[o + 5], out[o + 6], out[o + 7] = A[b + 3] + 0, rst, ra
  if v == 2 then
    -- Only the rejecting limit is charged; the earlier ones were peeks and report nothing.
    for j = 2, o do out[j] = 0 end
    out[1] = i
    write(i)
    return out
  end
end
for i = 1, n do write(i) end
return out
)LUA";

constexpr std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr std::int64_t floorMod(std::int64_t a, std::int64_t b) noexcept {  // b > 0
  const std::int64_t r = a % b;
  return r < 0 ? r + b : r;
}

constexpr U128 ceilDiv(U128 a, U128 b) noexcept { return a / b + (a % b != 0 ? 1 : 0); }

std::uint64_t defaultedBurst(const LimitSpec& spec) noexcept { return spec.burst == 0 ? spec.rate.count : spec.burst; }

/// Seconds and nanoseconds in [0, 1e9) of an absolute time (wider than int64: a window start
/// may lie just before the int64 range).
struct SplitTime {
  std::int64_t sec;
  std::int64_t nsec;
};
SplitTime splitTime(std::int64_t t) noexcept {  // the usual case: no 128-bit division
  return SplitTime{floorDiv(t, kNsPerSec), floorMod(t, kNsPerSec)};
}
SplitTime splitTime(I128 t) noexcept {
  I128 sec = t / kNsPerSec;
  I128 nsec = t % kNsPerSec;
  if (nsec < 0) {
    nsec += kNsPerSec;
    --sec;
  }
  return SplitTime{static_cast<std::int64_t>(sec), static_cast<std::int64_t>(nsec)};
}

/// What the script needs of one limit that depends on the spec and the cost alone, as in the
/// algorithm classes' constructors. Precondition: validateForRedis accepted the spec.
struct LimitParams {
  int code = 0;
  std::int64_t limit = 0;
  std::int64_t window = 0;
  std::int64_t need = 0;
  std::int64_t p1 = 0;
  std::int64_t p2 = 0;
  std::int64_t p3 = 0;
};

LimitParams paramsOf(const LimitSpec& spec, std::uint64_t cost) noexcept {
  LimitParams out;
  const auto count = static_cast<std::int64_t>(spec.rate.count);
  const std::int64_t period = spec.rate.period.count();
  const auto icost = static_cast<std::int64_t>(cost);
  switch (spec.algorithm) {
    case Algorithm::kTokenBucket:
    case Algorithm::kGcra: {
      const std::int64_t g = std::gcd(count, period);
      const std::int64_t c = count / g;
      const std::int64_t p = period / g;
      const auto burst = static_cast<std::int64_t>(defaultedBurst(spec));
      out.code = spec.algorithm == Algorithm::kTokenBucket ? 1 : 7;
      out.limit = burst;
      out.p1 = c;
      out.p2 = p;
      out.p3 = burst * p;
      out.window = static_cast<std::int64_t>(ceilDiv(static_cast<U128>(out.p3), static_cast<U128>(c)));
      out.need = icost * p;
      break;
    }
    case Algorithm::kTokenBucketDiscrete: {
      const auto burst = static_cast<std::int64_t>(defaultedBurst(spec));
      out.code = 2;
      out.limit = burst;
      out.window = static_cast<std::int64_t>(ceilDiv(static_cast<U128>(burst), static_cast<U128>(count))) * period;
      out.need = icost;
      out.p1 = period;
      out.p2 = count;
      break;
    }
    case Algorithm::kLeakyBucket: {
      const auto rateMilli = static_cast<std::int64_t>(static_cast<U128>(spec.rate.count) * 1000u * 1'000'000'000u /
                                                       static_cast<U128>(period));
      const auto burst = static_cast<std::int64_t>(spec.burst);
      out.code = 3;
      out.limit = burst + 1;
      out.window = static_cast<std::int64_t>(ceilDiv(static_cast<U128>(burst + 1) * 1'000'000u, static_cast<U128>(rateMilli))) *
                   kNsPerMs;
      out.need = icost * 1000;
      out.p1 = rateMilli;
      out.p2 = burst * 1000;
      out.p3 = spec.delay == LimitSpec::kNoDelay ? -1 : static_cast<std::int64_t>(spec.delay) * 1000;
      break;
    }
    case Algorithm::kFixedWindow:
    case Algorithm::kSlidingWindowLog:
    case Algorithm::kSlidingWindowCounter:
      out.code = spec.algorithm == Algorithm::kFixedWindow ? 4 : spec.algorithm == Algorithm::kSlidingWindowLog ? 5 : 6;
      out.limit = count;
      out.window = period;
      out.need = icost;
      if (spec.algorithm == Algorithm::kFixedWindow) out.p1 = spec.align == WindowAlign::kClock ? 1 : 0;
      if (spec.algorithm == Algorithm::kSlidingWindowCounter) out.p1 = spec.countRejected ? 1 : 0;
      break;
  }
  return out;
}

constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void appendHex(std::string& s, std::uint64_t v, int digits) {
  std::array<char, 16> buf{};
  for (int i = digits - 1; i >= 0; --i) buf[static_cast<std::size_t>(digits - 1 - i)] = kHex[(v >> (4 * i)) & 0xf];
  s.append(buf.data(), static_cast<std::size_t>(digits));
}

/// The start of the period of `every` ns that holds `t` (floor), split: t - floorMod(t, every),
/// in 64 bits when it fits (it does unless `t` lies within `every` of the int64 minimum).
SplitTime splitPeriodStart(std::int64_t t, std::int64_t every) noexcept {
  std::int64_t start = 0;
  if (!__builtin_sub_overflow(t, floorMod(t, every), &start)) return splitTime(start);
  return splitTime(static_cast<I128>(t) - floorMod(t, every));
}

/// Appends `text` with '{', '}' and '%' percent-encoded, so only the key's own {hash tag} picks
/// the Redis Cluster slot.
void appendEscaped(std::string& s, std::string_view text) {
  for (const char ch : text) {
    if (ch == '{' || ch == '}' || ch == '%') {
      s.push_back('%');
      appendHex(s, static_cast<unsigned char>(ch), 2);
    } else {
      s.push_back(ch);
    }
  }
}

/// 32 bits identifying everything that shapes a limit's state, with the state format's version:
/// a changed limit (or cost) starts from fresh keys instead of misreading old ones.
std::uint32_t fingerprint(const LimitSpec& spec, std::uint64_t cost) noexcept {
  std::array<char, 48> buf{};
  std::size_t n = 0;
  auto put8 = [&](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) buf[n++] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  buf[n++] = 'v';
  buf[n++] = '1';
  buf[n++] = static_cast<char>(spec.algorithm);
  put8(spec.rate.count);
  put8(static_cast<std::uint64_t>(spec.rate.period.count()));
  put8(spec.burst);
  put8(spec.delay);
  buf[n++] = static_cast<char>(spec.align);
  buf[n++] = spec.countRejected ? '\1' : '\0';
  put8(cost);
  return static_cast<std::uint32_t>(hash128(std::string_view(buf.data(), n)).lo);
}

std::string nsText(U128 ns) {
  if (ns > static_cast<U128>(std::numeric_limits<std::int64_t>::max())) return "more than 292 years";
  return formatDuration(Duration{static_cast<std::int64_t>(ns)});
}

std::string u128Text(U128 v) {
  if (v == 0) return "0";
  std::string out;
  while (v > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<std::string> checkHorizon(const char* what, U128 ns) {
  if (ns <= static_cast<U128>(kMaxHorizonNs)) return std::nullopt;
  return std::string(what) + " is " + nsText(ns) +
         "; a Redis-stored limit allows at most 960h (40 days), because every nanosecond value the script computes "
         "must stay below 2^53, the exact range of Redis's Lua numbers";
}

}  // namespace

std::string_view script() noexcept { return kScript; }

std::optional<std::string> validateForRedis(const LimitSpec& spec, std::uint64_t cost) {
  if (auto why = validateLimitSpec(spec, cost)) return why;
  const std::uint64_t count = spec.rate.count;
  const auto period = static_cast<std::uint64_t>(spec.rate.period.count());
  const std::string rate = formatRate(spec.rate);
  const std::uint64_t burst = defaultedBurst(spec);
  switch (spec.algorithm) {
    case Algorithm::kTokenBucket:
    case Algorithm::kGcra: {
      const std::uint64_t g = std::gcd(count, period);
      const U128 units = static_cast<U128>(burst) * (period / g);
      if (units > kMaxUnits)
        return "burst " + std::to_string(burst) + " at " + rate + " is " + u128Text(units) +
               " internal units (burst x period / gcd(count, period in ns)); a Redis-stored limit allows at most 2^52: "
               "use a smaller burst, or a rate whose count divides its period in nanoseconds";
      return checkHorizon(("refilling " + std::to_string(burst) + " tokens at " + rate).c_str(), ceilDiv(units, count / g));
    }
    case Algorithm::kTokenBucketDiscrete:
      if (burst > kMaxUnits)
        return "burst " + std::to_string(burst) + " is above 2^52, the most tokens a Redis-stored bucket can count exactly";
      return checkHorizon(("refilling " + std::to_string(burst) + " tokens at " + rate).c_str(),
                          ceilDiv(burst, count) * static_cast<U128>(period));
    case Algorithm::kLeakyBucket: {
      const U128 rateMilli = static_cast<U128>(count) * 1000u * 1'000'000'000u / period;
      if (rateMilli > kMaxLeakyRateMilli)
        return "rate " + rate + " is " + u128Text(rateMilli) +
               " milli-requests per second; a Redis-stored leaky bucket allows at most 10^15 (10^12 requests per second)";
      if (spec.burst > kMaxLeakyBurst)
        return "burst " + std::to_string(spec.burst) + " is above 10^9, the largest burst a Redis-stored leaky bucket "
               "carries exactly";
      return checkHorizon(("draining a full burst of " + std::to_string(spec.burst + 1) + " at " + rate).c_str(),
                          ceilDiv(static_cast<U128>(spec.burst + 1) * 1'000'000u, rateMilli) * kNsPerMs);
    }
    case Algorithm::kFixedWindow:
    case Algorithm::kSlidingWindowLog:
    case Algorithm::kSlidingWindowCounter:
      return checkHorizon(("the window of " + rate).c_str(), period);
  }
  return "unknown algorithm";
}

void buildCall(const RateLimitPolicySpec& spec, std::string_view prefix, const Hash128& key, TimePoint now, Call& out) {
  const std::size_t n = std::min(spec.limits.size(), kMaxLimitsPerPolicy);
  const std::int64_t t = toNanos(now);
  out.keys.resize(n);
  out.argv.resize(kHeaderArgs + kArgsPerLimit * n);

  const SplitTime split = splitTime(t);
  const bool samePolicy =
      out.keyHeads.size() == n && out.lastName == spec.name && out.lastPrefix == prefix && out.lastCost == spec.cost &&
      std::equal(spec.limits.begin(), spec.limits.begin() + static_cast<std::ptrdiff_t>(n), out.lastLimits.begin(),
                 out.lastLimits.end());
  if (!samePolicy) {
    // Recorded as this policy's only at the end, once every argument is written: a call cut short
    // (an allocation failing) leaves the next one to rebuild everything.
    out.lastLimits.clear();
    // Each key up to the client's hash: "<prefix>:rl:<policy>:<i>:<fingerprint>:{".
    out.keyHeads.resize(n);
    out.limitParams.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string& k = out.keyHeads[i];
      k.clear();
      appendEscaped(k, prefix);
      k.append(":rl:");
      appendEscaped(k, spec.name);
      k.push_back(':');
      appendDecimal(k, i);
      k.push_back(':');
      appendHex(k, fingerprint(spec.limits[i], spec.cost), 8);
      k.append(":{");
      const LimitParams p = paramsOf(spec.limits[i], spec.cost);
      out.limitParams[i] = {p.code, p.limit, p.window, p.need, p.p1, p.p2, p.p3};
    }
    out.lastName = spec.name;
    out.lastPrefix.assign(prefix);
    out.lastCost = spec.cost;
  }
  const std::int64_t subMs = floorMod(t, kNsPerMs);
  assignDecimal(out.argv[0], split.sec);
  assignDecimal(out.argv[1], split.nsec);
  assignDecimal(out.argv[2], floorDiv(t, kNsPerMs));
  assignDecimal(out.argv[3], subMs);
  if (!samePolicy) assignDecimal(out.argv[4], kTtlSlackMs);

  for (std::size_t i = 0; i < n; ++i) {
    const LimitSpec& ls = spec.limits[i];
    const std::array<std::int64_t, 7>& c = out.limitParams[i];
    const LimitParams p{static_cast<int>(c[0]), c[1], c[2], c[3], c[4], c[5], c[6]};

    std::string& k = out.keys[i];
    k.assign(out.keyHeads[i]);
    appendHex(k, key.hi, 16);
    appendHex(k, key.lo, 16);
    k.push_back('}');

    // The arguments that depend on the policy alone are still there from the last call when it
    // was for an equal policy; those that depend on the time are made every call.
    std::string* a = &out.argv[kHeaderArgs + kArgsPerLimit * i];
    if (!samePolicy) {
      assignDecimal(a[0], p.code);
      assignDecimal(a[1], p.limit);
      assignDecimal(a[2], p.window);
      assignDecimal(a[3], p.need);
    }
    switch (ls.algorithm) {
      case Algorithm::kTokenBucketDiscrete: {
        // The start of now's fill interval: the fill index, kept as a time so no index has to fit 2^53.
        const SplitTime fill = splitPeriodStart(t, p.p1);
        if (!samePolicy) {
          assignDecimal(a[4], p.p1);
          assignDecimal(a[5], p.p2);
        }
        assignDecimal(a[6], fill.sec);
        assignDecimal(a[7], fill.nsec);
        break;
      }
      case Algorithm::kFixedWindow:
      case Algorithm::kSlidingWindowCounter: {
        const SplitTime start = splitPeriodStart(t, p.window);
        if (!samePolicy) {
          assignDecimal(a[4], p.p1);
          assignDecimal(a[7], 0);
        }
        assignDecimal(a[5], start.sec);
        assignDecimal(a[6], start.nsec);
        break;
      }
      default:
        if (!samePolicy) {
          assignDecimal(a[4], p.p1);
          assignDecimal(a[5], p.p2);
          assignDecimal(a[6], p.p3);
          assignDecimal(a[7], 0);
        }
        break;
    }
  }
  if (!samePolicy) out.lastLimits.assign(spec.limits.begin(), spec.limits.begin() + static_cast<std::ptrdiff_t>(n));
}

std::optional<PolicyDecision> parseReply(const RateLimitPolicySpec& spec, const Hash128& key,
                                         std::span<const std::int64_t> reply, std::string& error) {
  const std::size_t n = spec.limits.size();
  if (n == 0 || n > kMaxLimitsPerPolicy) {
    error = "the policy has " + std::to_string(n) + " limits; 1 to " + std::to_string(kMaxLimitsPerPolicy) + " expected";
    return std::nullopt;
  }
  if (reply.empty()) {
    error = "empty reply; expected [evaluated, then 7 values per evaluated limit]";
    return std::nullopt;
  }
  const std::int64_t evaluated = reply[0];
  if (evaluated < 1 || evaluated > static_cast<std::int64_t>(n)) {
    error = "reply says " + std::to_string(evaluated) + " limits were evaluated; the policy has " + std::to_string(n);
    return std::nullopt;
  }
  const auto count = static_cast<std::size_t>(evaluated);
  if (reply.size() != 1 + kReplyPerLimit * count) {
    error = "reply has " + std::to_string(reply.size()) + " values; " + std::to_string(1 + kReplyPerLimit * count) +
            " expected for " + std::to_string(count) + " evaluated limits";
    return std::nullopt;
  }
  const bool rejected = reply[1 + kReplyPerLimit * (count - 1)] == 2;
  if (count < n && !rejected) {
    error = "reply stops at limit " + std::to_string(count - 1) + " of " + std::to_string(n) + " without a rejection";
    return std::nullopt;
  }

  std::array<Decision, kMaxLimitsPerPolicy> decisions{};
  for (std::size_t j = 0; j < count; ++j) {
    const std::span<const std::int64_t> f = reply.subspan(1 + kReplyPerLimit * j, kReplyPerLimit);
    const auto fail = [&](const std::string& what) {
      error = "reply for limit " + std::to_string(j) + ": " + what;
      return std::nullopt;
    };
    for (std::size_t v = 0; v < kReplyPerLimit; ++v) {
      if (f[v] < 0 || f[v] >= kMaxReplyValue) {
        return fail("value " + std::to_string(v) + " is " + std::to_string(f[v]) + ", outside [0, 2^53)");
      }
    }
    const bool last = j + 1 == count;
    if (!last && rejected) {
      // Limits before the rejecting one were only peeked at: the script reports them as zeros.
      if (std::any_of(f.begin(), f.end(), [](std::int64_t v) { return v != 0; })) {
        return fail("a limit before the rejecting one must be reported as zeros");
      }
      continue;
    }
    if (f[0] > 2) {
      return fail("verdict " + std::to_string(f[0]) + " is not 0 (allow), 1 (delay) or 2 (reject)");
    }
    const auto verdict = static_cast<Verdict>(f[0]);
    if (verdict == Verdict::kReject && !last) {
      return fail("a rejection must be the last evaluated limit");
    }
    if ((verdict == Verdict::kDelay) != (f[1] > 0)) {
      return fail("delay " + std::to_string(f[1]) + " does not match verdict " + toString(verdict));
    }
    if ((verdict == Verdict::kReject) != (f[6] > 0)) {
      return fail("retry-after " + std::to_string(f[6]) + " does not match verdict " + toString(verdict));
    }
    const LimitParams p = paramsOf(spec.limits[j], spec.cost);
    if (f[2] != p.limit || f[4] != p.window) {
      return fail("limit " + std::to_string(f[2]) + " and window " + std::to_string(f[4]) + " ns differ from the spec's " +
              std::to_string(p.limit) + " and " + std::to_string(p.window) + " ns (a script of another version?)");
    }
    if (f[3] > f[2]) {
      return fail("remaining " + std::to_string(f[3]) + " exceeds the limit " + std::to_string(f[2]));
    }
    Decision& d = decisions[j];
    d.verdict = verdict;
    d.delay = Duration{f[1]};
    d.limit = static_cast<std::uint64_t>(f[2]);
    d.remaining = static_cast<std::uint64_t>(f[3]);
    d.window = Duration{f[4]};
    d.reset = Duration{f[5]};
    d.retryAfter = Duration{f[6]};
  }
  return combineDecisions(spec, key, std::span<const Decision>(decisions.data(), count));
}

}  // namespace gatelab::core::ratelimit::redis
