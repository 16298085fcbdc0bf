import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

export interface RedisOptions {
  /**
   * For connections that BullMQ blocks on (workers): commands wait for Redis however long it takes
   * (`maxRetriesPerRequest: null`), as BullMQ requires. Everything else fails fast instead of hanging
   * while Redis is away.
   */
  blocking?: boolean;
}

export function createRedis(
  url: string,
  connectionName: string,
  { blocking = false }: RedisOptions = {},
): Redis {
  return blocking
    ? new Redis(url, { connectionName, maxRetriesPerRequest: null })
    : new Redis(url, { connectionName, maxRetriesPerRequest: 2, commandTimeout: 5_000 });
}
