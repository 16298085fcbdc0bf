import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerBackgroundTask } from './background-task.ts';
import { createHttpApp } from './http-app.ts';
import { createLogger } from './logger.ts';

const logger = createLogger({ name: 'background-task-test', level: 'silent' });

describe('background tasks owned by the app', () => {
  // Only the task's interval is faked: fastify's own start-up keeps its real timers.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('start when the app is ready, never overlap, and stop with it after the pass in progress', async () => {
    const app = createHttpApp({ logger });
    const events: string[] = [];
    let release: () => void = () => {};
    registerBackgroundTask(
      app,
      {
        name: 'slow',
        intervalMs: 5,
        run: async () => {
          events.push('start');
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          events.push('end');
        },
      },
      logger,
    );
    expect(events).toEqual([]);
    await app.ready();
    expect(events).toEqual(['start']);
    // Several intervals pass while the first pass runs: none starts another.
    await vi.advanceTimersByTimeAsync(30);
    expect(events).toEqual(['start']);
    const closing = app.close();
    release();
    await closing;
    expect(events).toEqual(['start', 'end']);
    // Closed: no interval fires any more.
    await vi.advanceTimersByTimeAsync(20);
    expect(events).toEqual(['start', 'end']);
  });

  it('goes on after a failed pass', async () => {
    const app = createHttpApp({ logger });
    let passes = 0;
    registerBackgroundTask(
      app,
      {
        name: 'flaky',
        intervalMs: 5,
        run: async () => {
          passes++;
          throw new Error('boom');
        },
      },
      logger,
    );
    await app.ready();
    await vi.advanceTimersByTimeAsync(40);
    await app.close();
    // The pass at start, then one per interval: every one failed, none stopped the next.
    expect(passes).toBe(9);
  });
});
