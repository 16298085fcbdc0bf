import type { StsFailure } from '@sts/sts';
import { describe, expect, it } from 'vitest';
import { type QueueOutcome, queueOutcomeOf } from './failure-outcome.ts';

const explanation = { it: 'spiegazione', en: 'explanation' };

/** Every `StsFailure` kind (and the variants of `transient`) and the one queue outcome it maps to. */
const cases: [string, StsFailure, QueueOutcome][] = [
  [
    'transient network error: retry',
    { kind: 'transient', reason: 'network', description: 'ECONNREFUSED', code: 'ECONNREFUSED' },
    { kind: 'retry', reason: 'network ECONNREFUSED' },
  ],
  [
    'transient HTTP 503: retry',
    { kind: 'transient', reason: 'http-status', description: 'Service Unavailable', status: 503 },
    { kind: 'retry', reason: 'http-status HTTP 503' },
  ],
  [
    'throttled with Retry-After: retry after it',
    {
      kind: 'transient',
      reason: 'throttled',
      description: 'Too Many Requests',
      status: 429,
      retryAfterMs: 30_000,
    },
    { kind: 'retry', reason: 'throttled HTTP 429', retryAfterMs: 30_000 },
  ],
  [
    "the STS's own try-later: retry",
    {
      kind: 'transient',
      reason: 'sts-error',
      description: 'Servizio momentaneamente non disponibile',
      code: 'E999',
    },
    { kind: 'retry', reason: 'sts-error E999' },
  ],
  [
    'answer lost with a code: reconcile',
    { kind: 'no-answer', description: 'socket hang up', code: 'ECONNRESET' },
    { kind: 'reconcile', reason: 'ECONNRESET' },
  ],
  [
    'answer lost without a code: reconcile',
    { kind: 'no-answer', description: 'timeout' },
    { kind: 'reconcile', reason: 'no-answer' },
  ],
  [
    'login refused: block, reported as authentication',
    { kind: 'authentication', reason: 'password-expired', faultString: 'Password scaduta', explanation },
    {
      kind: 'block',
      report: { kind: 'authentication', reason: 'password-expired', faultString: 'Password scaduta' },
    },
  ],
  [
    'wrong pincode: block, reported as credential',
    { kind: 'credential', code: 'E011', description: 'Pincode errato', explanation },
    { kind: 'block', report: { kind: 'credential', code: 'E011', description: 'Pincode errato' } },
  ],
  [
    'request refused for good: reject with the code and text verbatim',
    { kind: 'request-rejected', code: 'E104', description: 'File non conforme allo schema', explanation },
    { kind: 'reject', messages: [{ code: 'E104', kind: 'error', text: 'File non conforme allo schema' }] },
  ],
];

describe('queueOutcomeOf', () => {
  it.each(cases)('%s', (_, failure, outcome) => {
    expect(queueOutcomeOf(failure)).toEqual(outcome);
  });

  it('covers every StsFailure kind', () => {
    const kinds: Record<StsFailure['kind'], QueueOutcome['kind']> = {
      transient: 'retry',
      'no-answer': 'reconcile',
      authentication: 'block',
      credential: 'block',
      'request-rejected': 'reject',
    };
    const covered = new Map(cases.map(([, failure, outcome]) => [failure.kind, outcome.kind]));
    expect(Object.fromEntries(covered)).toEqual(kinds);
  });
});
