import { randomUUID } from 'node:crypto';
import { conflict } from './credential-problems.ts';
import type { CredentialServiceDeps } from './credential-service-deps.ts';

export type TestLock = ReturnType<typeof createTestLock>;

/**
 * The Redis lock that keeps two tests of one credential apart (across replicas). It expires after
 * `testLockTtlMs` should its holder die, and is released only by its holder.
 */
export function createTestLock(deps: Pick<CredentialServiceDeps, 'redis' | 'policy'>) {
  const { redis, policy } = deps;

  /** Runs `run` holding the lock of a credential; a 409 when another test holds it. */
  async function whileHeld<T>(credentialId: string, run: () => Promise<T>): Promise<T> {
    const lockKey = `credentials:test-lock:${credentialId}`;
    const lockToken = randomUUID();
    const locked = await redis.set(lockKey, lockToken, 'PX', policy.testLockTtlMs, 'NX');
    if (locked !== 'OK') {
      throw conflict(
        'test-in-progress',
        'A test is already running',
        'Another test of this credential is running: wait for its result.',
      );
    }
    try {
      return await run();
    } finally {
      await redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        lockKey,
        lockToken,
      );
    }
  }

  return { whileHeld };
}
