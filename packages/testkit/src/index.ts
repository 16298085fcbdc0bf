export { createDatabaseFromTemplate, databaseUrl, prepareTemplate, type TestDatabase } from './database.ts';
export { useTestDatabase, useTestRedis } from './fixtures.ts';
export { createGlobalSetup } from './global-setup.ts';
export { allocateRedisDatabase } from './redis-database.ts';
export { REDIS_DATABASES, type StackMode, startTestStack, type TestStack, TestStackError } from './stack.ts';
export { type TestClock, testClock } from './test-clock.ts';
export type { ProvidedTestStack } from './vitest-context.ts';
