import { LuaScript } from './lua-script';

/**
 * The lease's Lua scripts. Each runs atomically in Redis, so check-then-write needs no WATCH.
 * Numbers are formatted with %d: Lua 5.1 turns a number into a string with "%.14g", which would write
 * 123456789012345 as 1.2345678901234e+14; %d is exact up to 2^53, the largest token JavaScript can hold.
 * The lease key holds `{token}:{holderId}`, so compare-and-set of that one value checks holder and token.
 */

/**
 * KEYS[1] lease key, KEYS[2] highest-token key; ARGV[1] holder id, ARGV[2] ttl ms, ARGV[3] minToken.
 * Returns the new token, or nil when the lease is held. The token key never expires: it is what keeps
 * tokens rising across holders whose leases expired.
 */
export const ACQUIRE = new LuaScript(
  'acquire',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return nil
end
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
if highest == nil then
  return redis.error_reply('tidemark: highest lease token is not a number')
end
local token = math.max(highest + 1, tonumber(ARGV[3]))
if token > 9007199254740991 then
  return redis.error_reply('tidemark: lease tokens exhausted')
end
local text = string.format('%d', token)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], text .. ':' .. ARGV[1], 'PX', ARGV[2])
return text
`,
);

/** KEYS[1] lease key; ARGV[1] the exact value `{token}:{holderId}`, ARGV[2] ttl ms. 1 if extended, else 0. */
export const RENEW = new LuaScript(
  'renew',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** KEYS[1] lease key; ARGV[1] the exact value `{token}:{holderId}`. 1 if deleted, 0 if not ours. */
export const RELEASE = new LuaScript(
  'release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);
