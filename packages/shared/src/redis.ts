import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

/** BullMQ needs `maxRetriesPerRequest: null` on connections its workers block on; harmless elsewhere. */
export function createRedis(url: string, connectionName: string): Redis {
  return new Redis(url, { connectionName, maxRetriesPerRequest: null, lazyConnect: false });
}
