import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger.ts';

export interface BackgroundTask {
  name: string;
  /** Runs once when the app is ready, then every `intervalMs`. */
  intervalMs: number;
  run(): Promise<unknown>;
}

/**
 * A periodic task owned by the app: it starts when the app is ready (`listen`, `ready` or the first
 * `inject`) and stops when it closes, waiting for a pass in progress. Passes never overlap; a failed
 * pass is logged and the next one runs on time.
 */
export function registerBackgroundTask(
  app: FastifyInstance,
  task: BackgroundTask,
  logger: Pick<Logger, 'error'>,
): void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = () => {
    if (running || stopped) return;
    running = task
      .run()
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err, task: task.name }, 'background task pass failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  app.addHook('onReady', async () => {
    pass();
    timer = setInterval(pass, task.intervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  });
}
