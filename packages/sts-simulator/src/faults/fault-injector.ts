import { z } from 'zod';
import { type OperationName, resolveOperationName } from '../protocol/services.ts';

/**
 * Faults injected on demand through the admin API, per user or for everyone, optionally for one
 * operation: added latency, HTTP 500 (a SOAP Server fault) and 503 (a bare proxy page), connection
 * reset before any work, the answer lost after the work was done, and throttling (N calls per second,
 * answering 429 or 503 beyond). Each fires for `count` calls and/or with `probability`, else always.
 *
 * `receipt-not-ready` is not a transport fault: the receipt services (DettaglioErrori, RicevutaPdf)
 * answer WS15 "not ready yet" instead of the receipt, for one `protocol` or any. Their handlers ask
 * for it (`receiptNotReady`) once the caller and the protocol are checked; `plan` ignores it.
 */

export const FAULT_KINDS = [
  'latency',
  'http-500',
  'http-503',
  'reset',
  'lost-answer',
  'throttle',
  'receipt-not-ready',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The operations a `receipt-not-ready` fault can apply to. */
const RECEIPT_OPERATIONS: readonly OperationName[] = ['errorDetail', 'pdfReceipt'];

export const faultSpecSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    /** Only calls authenticated (or attempted) as this user. */
    user: z.string().min(1).optional(),
    /** Only this operation: English name (`insert`) or official one (`Inserimento`, `inviaFileMtom`). */
    operation: z
      .string()
      .min(1)
      .optional()
      .refine((value) => value === undefined || resolveOperationName(value) !== undefined, {
        message:
          'is not an operation of the simulator (e.g. upload, inviaFileMtom, insert, Inserimento, EsitoInvii)',
      }),
    /** Fire for this many matching calls, then disappear. Not for throttle. */
    count: z.number().int().positive().optional(),
    /** Fire with this probability on each matching call. Not for throttle. */
    probability: z.number().min(0).max(1).optional(),
    /** latency: added delay. */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** throttle: calls per second allowed (also the burst). */
    ratePerSecond: z.number().positive().max(1_000_000).optional(),
    /** throttle: answer for calls beyond the rate. */
    status: z.union([z.literal(429), z.literal(503)]).optional(),
    /** throttle: one bucket per user (default) or one for all matching calls. */
    scope: z.enum(['user', 'global']).optional(),
    /** receipt-not-ready: only receipt calls for this upload protocol (17 digits). */
    protocol: z
      .string()
      .regex(/^\d{17}$/, 'is an upload protocol: 17 digits')
      .optional(),
  })
  .superRefine((spec, context) => {
    if (spec.protocol !== undefined && spec.kind !== 'receipt-not-ready')
      context.addIssue({
        code: 'custom',
        path: ['protocol'],
        message: 'is for receipt-not-ready faults only',
      });
    if (spec.kind === 'receipt-not-ready' && spec.operation !== undefined) {
      const operation = resolveOperationName(spec.operation);
      if (operation !== undefined && !RECEIPT_OPERATIONS.includes(operation))
        context.addIssue({
          code: 'custom',
          path: ['operation'],
          message: 'must be a receipt operation for receipt-not-ready faults: DettaglioErrori or RicevutaPdf',
        });
    }
    if (spec.kind === 'latency' && spec.latencyMs === undefined)
      context.addIssue({ code: 'custom', path: ['latencyMs'], message: 'is required for latency faults' });
    if (spec.kind === 'throttle' && spec.ratePerSecond === undefined)
      context.addIssue({
        code: 'custom',
        path: ['ratePerSecond'],
        message: 'is required for throttle faults',
      });
  });
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface ActiveFault extends FaultSpec {
  id: string;
  /** Resolved operation name. */
  operationName?: OperationName;
  remaining?: number;
  fired: number;
}

export interface FaultPlan {
  latencyMs: number;
  /** Stop here: answer 429/503 (throttle), 500, 503, or reset the connection. */
  abort?:
    | { kind: 'http-500' | 'http-503' | 'reset' }
    | { kind: 'throttle'; status: 429 | 503; retryAfterSeconds: number };
  /** Do the work, then drop the connection without answering. */
  lostAnswer: boolean;
}

export interface FaultInjector {
  add(spec: FaultSpec): ActiveFault;
  list(): ActiveFault[];
  remove(id: string): boolean;
  clear(): void;
  plan(call: { user: string | undefined; operation: OperationName }): FaultPlan;
  /** Whether a `receipt-not-ready` fault answers this receipt call with WS15 (and counts it if so). */
  receiptNotReady(call: { user: string; operation: OperationName; protocol: string }): boolean;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function createFaultInjector(options: { random: () => number; now: () => number }): FaultInjector {
  let faults: ActiveFault[] = [];
  let nextId = 1;
  const buckets = new Map<string, Bucket>();

  const takeToken = (fault: ActiveFault, user: string | undefined): boolean => {
    const rate = fault.ratePerSecond!;
    const key = `${fault.id}:${fault.scope === 'global' ? '*' : (user ?? '')}`;
    const now = options.now();
    const bucket = buckets.get(key) ?? { tokens: rate, updatedAt: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = now;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    return false;
  };

  const fires = (fault: ActiveFault): boolean => {
    if (fault.remaining !== undefined && fault.remaining <= 0) return false;
    if (fault.probability !== undefined && options.random() >= fault.probability) return false;
    return true;
  };

  const consume = (fault: ActiveFault) => {
    fault.fired++;
    if (fault.remaining !== undefined) fault.remaining--;
  };

  return {
    add(spec) {
      const operationName = spec.operation ? resolveOperationName(spec.operation) : undefined;
      const fault: ActiveFault = {
        ...spec,
        id: `f${nextId++}`,
        ...(operationName ? { operationName } : {}),
        ...(spec.count !== undefined ? { remaining: spec.count } : {}),
        fired: 0,
      };
      faults.push(fault);
      return fault;
    },
    list: () => faults.map((fault) => ({ ...fault })),
    remove(id) {
      const before = faults.length;
      faults = faults.filter((fault) => fault.id !== id);
      return faults.length !== before;
    },
    clear() {
      faults = [];
      buckets.clear();
    },
    plan({ user, operation }) {
      const plan: FaultPlan = { latencyMs: 0, lostAnswer: false };
      for (const fault of faults) {
        if (fault.user !== undefined && fault.user !== user) continue;
        if (fault.operationName !== undefined && fault.operationName !== operation) continue;
        if (fault.kind === 'receipt-not-ready') continue;
        if (fault.kind === 'throttle') {
          if (!plan.abort && !takeToken(fault, user)) {
            fault.fired++;
            plan.abort = {
              kind: 'throttle',
              status: fault.status ?? 429,
              retryAfterSeconds: Math.max(1, Math.ceil(1 / fault.ratePerSecond!)),
            };
          }
          continue;
        }
        if (!fires(fault)) continue;
        switch (fault.kind) {
          case 'latency':
            consume(fault);
            plan.latencyMs += fault.latencyMs ?? 0;
            break;
          case 'lost-answer':
            consume(fault);
            plan.lostAnswer = true;
            break;
          default:
            if (!plan.abort) {
              consume(fault);
              plan.abort = { kind: fault.kind };
            }
        }
      }
      faults = faults.filter((fault) => fault.remaining === undefined || fault.remaining > 0);
      return plan;
    },
    receiptNotReady({ user, operation, protocol }) {
      if (!RECEIPT_OPERATIONS.includes(operation)) return false;
      const fault = faults.find(
        (candidate) =>
          candidate.kind === 'receipt-not-ready' &&
          (candidate.user === undefined || candidate.user === user) &&
          (candidate.operationName === undefined || candidate.operationName === operation) &&
          (candidate.protocol === undefined || candidate.protocol === protocol) &&
          fires(candidate),
      );
      if (!fault) return false;
      consume(fault);
      faults = faults.filter((candidate) => candidate.remaining === undefined || candidate.remaining > 0);
      return true;
    },
  };
}
