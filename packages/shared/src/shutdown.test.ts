import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { createShutdown } from './shutdown.ts';

describe('shutdown', () => {
  it('closes in reverse order, once, and goes on past a failing step', async () => {
    const closed: string[] = [];
    const shutdown = createShutdown({
      logger: createLogger({ name: 'test', level: 'silent' }),
      timeoutMs: 1_000,
    });
    shutdown.register('postgres', () => closed.push('postgres'));
    shutdown.register('broken', () => {
      throw new Error('boom');
    });
    shutdown.register('http', async () => closed.push('http'));
    await Promise.all([shutdown.run('test'), shutdown.run('again')]);
    expect(closed).toEqual(['http', 'postgres']);
  });
});
