-- Wrong on purpose: a variadic script with a named parameter.
return redis.call('GET', @key)
