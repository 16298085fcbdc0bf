import { Redis } from 'ioredis';

/**
 * Gives the caller a Redis logical database of its own, emptied, so suites that run BullMQ workers
 * never see each other's queues. Numbers come from a counter in database 0, which stays unused.
 */
export async function allocateRedisDatabase(baseUrl: string): Promise<{ url: string; index: number }> {
  const admin = new Redis(baseUrl, { db: 0, lazyConnect: true, maxRetriesPerRequest: 3 });
  await admin.connect();
  try {
    const databases = await admin
      .config('GET', 'databases')
      .then((answer) => Number((answer as string[])[1]))
      .catch(() => 16);
    const ticket = await admin.incr('testkit:next-database');
    const index = ((ticket - 1) % (databases - 1)) + 1;
    const url = new URL(baseUrl);
    url.pathname = `/${index}`;
    const client = new Redis(url.toString(), { lazyConnect: true });
    await client.connect();
    await client.flushdb();
    await client.quit();
    return { url: url.toString(), index };
  } finally {
    await admin.quit();
  }
}
