-- Wrong on purpose: a named script reading positional keys.
return redis.call('GET', KEYS[1])
