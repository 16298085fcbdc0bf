import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from './database.ts';
import { allocateRedisDatabase } from './redis-database.ts';
import './vitest-context.ts';

/** A database of this test file's own, cloned from the migrated template before the file's tests. */
export function useTestDatabase(): { readonly url: string; readonly name: string } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    const stack = inject('testStack');
    database = await createDatabaseFromTemplate(stack.postgresAdminUrl, stack.template);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get url() {
      if (!database) throw new Error('useTestDatabase: read .url inside a test or hook, not at import time');
      return database.url;
    },
    get name() {
      if (!database) throw new Error('useTestDatabase: read .name inside a test or hook, not at import time');
      return database.name;
    },
  };
}

/** A Redis logical database of this test file's own, emptied before use. */
export function useTestRedis(): { readonly url: string } {
  let url: string | undefined;
  beforeAll(async () => {
    url = (await allocateRedisDatabase(inject('testStack').redisUrl)).url;
  });
  return {
    get url() {
      if (!url) throw new Error('useTestRedis: read .url inside a test or hook, not at import time');
      return url;
    },
  };
}
