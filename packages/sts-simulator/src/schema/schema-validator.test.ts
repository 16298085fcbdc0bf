import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createSchemaValidator, type SchemaId, type SchemaValidator } from './schema-validator.ts';
import type { SchemaBundle } from './xsd-worker.ts';

const STAND_IN = new URL('../../test-support/stand-in-xsd-worker.ts', import.meta.url);

/** Every thread this process starts, in order (`process` emits `worker` on the tick after creation). */
function recordSpawnedThreads(): { threads: Worker[]; stop(): void } {
  const threads: Worker[] = [];
  const onWorker = (worker: Worker) => threads.push(worker);
  process.on('worker', onWorker);
  return { threads, stop: () => process.off('worker', onWorker) };
}

/** Resolves on `exit` (events.once would reject on the `error` that precedes it). */
const exitOf = (thread: Worker) => new Promise<void>((resolve) => thread.once('exit', () => resolve()));

let validator: SchemaValidator | undefined;
let recorder: ReturnType<typeof recordSpawnedThreads> | undefined;
afterEach(async () => {
  recorder?.stop();
  await validator?.close();
});

const startPool = async (workers: number) => {
  recorder = recordSpawnedThreads();
  validator = createSchemaValidator({
    bundles: {} as Record<SchemaId, SchemaBundle>,
    workers,
    workerUrl: STAND_IN,
  });
  await nextTurn();
  return { validator, threads: recorder.threads };
};

describe('schema validation thread pool', () => {
  it('replaces a crashed thread exactly once and rejects its in-flight validations', async () => {
    const { validator, threads } = await startPool(1);
    expect(threads).toHaveLength(1);
    const crashed = threads[0]!;
    const exited = exitOf(crashed);

    const inFlight = validator.validate('precompilata', 'crash');
    await expect(inFlight).rejects.toThrow('simulated crash');
    // The pool's own `exit` listener was added first, so it has run once this resolves.
    await exited;
    await nextTurn();

    expect(threads).toHaveLength(2);
    expect(await validator.validate('precompilata', '<ok/>')).toEqual({ valid: true, problems: [] });
    expect(threads).toHaveLength(2);
  });

  it('keeps its size through repeated crashes', async () => {
    const { validator, threads } = await startPool(2);
    for (let crash = 0; crash < 3; crash++) {
      const before = threads.length;
      const exits = threads.slice(-2).map(exitOf);
      await Promise.all([
        expect(validator.validate('precompilata', 'crash')).rejects.toThrow(),
        expect(validator.validate('precompilata', 'crash')).rejects.toThrow(),
      ]);
      await Promise.all(exits);
      await nextTurn();
      expect(threads.length - before).toBe(2);
    }
    expect(threads).toHaveLength(8);
  });

  it('rejects validations still in flight when it is closed', async () => {
    const { validator } = await startPool(1);
    const pending = validator.validate('precompilata', 'hang');
    await validator.close();
    await expect(pending).rejects.toThrow('the schema validator is closed');
    await expect(validator.validate('precompilata', '<ok/>')).rejects.toThrow('closed');
  });
});
