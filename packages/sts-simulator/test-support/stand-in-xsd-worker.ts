import { parentPort } from 'node:worker_threads';
import type { ValidationReply, ValidationRequest } from '../src/schema/xsd-worker.ts';

/**
 * A stand-in for the validation thread, for tests of the pool around it: `crash` throws out of the
 * message listener (Node then emits `error` and `exit`), `hang` is never answered, anything else is valid.
 */
parentPort?.on('message', (request: ValidationRequest) => {
  if (request.xml === 'crash') throw new Error('simulated crash of a validation thread');
  if (request.xml === 'hang') return;
  parentPort?.postMessage({ id: request.id, valid: true } satisfies ValidationReply);
});
