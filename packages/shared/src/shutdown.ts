import type { Logger } from './logger.ts';

export interface Shutdown {
  /** Adds a step; steps run in reverse order of registration (last opened, first closed). */
  register(name: string, close: () => Promise<unknown> | unknown): void;
  /** Runs every step once, each bounded by the overall timeout. Later calls return the same promise. */
  run(reason: string): Promise<void>;
  /** Runs on SIGTERM and SIGINT, then exits (1 if a step failed or the timeout passed). */
  onSignals(): void;
}

export function createShutdown({ logger, timeoutMs }: { logger: Logger; timeoutMs: number }): Shutdown {
  const steps: { name: string; close: () => Promise<unknown> | unknown }[] = [];
  let running: Promise<void> | undefined;
  let failed = false;

  async function runSteps(reason: string): Promise<void> {
    logger.info({ reason }, 'shutting down');
    for (const step of [...steps].reverse()) {
      try {
        await step.close();
        logger.debug({ step: step.name }, 'closed');
      } catch (err) {
        failed = true;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
  }

  const run = (reason: string) => {
    running ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        failed = true;
        logger.error({ timeoutMs }, 'shutdown timed out');
        resolve();
      }, timeoutMs);
      timer.unref();
      void runSteps(reason).finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return running;
  };

  return {
    register: (name, close) => steps.push({ name, close }),
    run,
    onSignals() {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void run(signal).then(() => {
            logger.flush?.();
            process.exit(failed ? 1 : 0);
          });
        });
      }
    },
  };
}
