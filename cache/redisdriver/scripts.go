package redisdriver

import "github.com/redis/go-redis/v9"

// Scripts run atomically on the server; results: 1 done, -1 another value is
// stored (not the owner), 0 key absent.
var (
	compareAndDeleteScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1`)

	compareAndExpireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

	compareAndPersistScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('PERSIST', KEYS[1])
return 1`)

	// incrScript adds ARGV[1] and sets the ttl ARGV[2] (ms) only if it created the key.
	incrScript = redis.NewScript(`
local created = redis.call('EXISTS', KEYS[1]) == 0
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`)
)
