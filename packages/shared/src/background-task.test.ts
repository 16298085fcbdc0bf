import { describe, expect, it } from 'vitest';
import { registerBackgroundTask } from './background-task.ts';
import { createHttpApp } from './http-app.ts';
import { createLogger } from './logger.ts';

const logger = createLogger({ name: 'background-task-test', level: 'silent' });

describe('background tasks owned by the app', () => {
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
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(events).toEqual(['start']);
    const closing = app.close();
    release();
    await closing;
    expect(events).toEqual(['start', 'end']);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    await new Promise((resolve) => setTimeout(resolve, 40));
    await app.close();
    expect(passes).toBeGreaterThan(1);
  });
});
