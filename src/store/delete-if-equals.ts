/** Deletes a key only while it still holds our value: releasing a lock or marker we own, never someone else's. */
export const DELETE_IF_EQUALS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
