/**
 * BotHarness runs redis-server without persistence, so "Redis restarted" there means "Redis lost
 * everything". To ask whether an approval survives a restart, the bot has to sit on a Redis that
 * keeps its data: this swaps the harness's server for one on the same port with an fsync'd AOF.
 */
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';
import type { BotHarness } from '../../support/bot-harness.js';

export async function usePersistentRedis(h: BotHarness): Promise<RedisServer> {
  await h.bot.stop();
  const port = h.redis.port;
  await h.redis.stop();
  // Same port, so the harness's redis URL (and everything built from it) still points here.
  const redis = await startRedisServer({ port, extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  await h.startBot();
  return redis;
}
