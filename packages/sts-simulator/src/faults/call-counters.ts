import type { OperationName } from '../protocol/services.ts';

/** Calls received per operation and user (the user named in the Authorization header, verified or not). */
export interface CallCounters {
  record(operation: OperationName, user: string | undefined): void;
  /**
   * A call of `user` is under way (from its counting to its answer, injected latency included):
   * the function returned ends it. Tests read the most calls of one user ever under way at once.
   */
  begin(user: string | undefined): () => void;
  snapshot(): Record<string, Record<string, number>>;
  /** Per user: calls under way now, and the most under way at once since the last `clear`. */
  concurrency(): Record<string, { inFlight: number; max: number }>;
  total(operation?: OperationName): number;
  clear(): void;
}

/** Calls without a readable Authorization header. */
export const ANONYMOUS = '(none)';

export function createCallCounters(): CallCounters {
  const counts = new Map<OperationName, Map<string, number>>();
  let overlap = new Map<string, { inFlight: number; max: number }>();
  return {
    record(operation, user) {
      let byUser = counts.get(operation);
      if (!byUser) {
        byUser = new Map();
        counts.set(operation, byUser);
      }
      const key = user ?? ANONYMOUS;
      byUser.set(key, (byUser.get(key) ?? 0) + 1);
    },
    begin(user) {
      const key = user ?? ANONYMOUS;
      // A `clear` while the call is under way starts a new map: its end does not touch the new one.
      const current = overlap;
      let entry = current.get(key);
      if (!entry) {
        entry = { inFlight: 0, max: 0 };
        current.set(key, entry);
      }
      entry.inFlight++;
      entry.max = Math.max(entry.max, entry.inFlight);
      let ended = false;
      const counted = entry;
      return () => {
        if (ended) return;
        ended = true;
        counted.inFlight--;
      };
    },
    snapshot: () =>
      Object.fromEntries([...counts].map(([operation, byUser]) => [operation, Object.fromEntries(byUser)])),
    concurrency: () => Object.fromEntries([...overlap].map(([user, entry]) => [user, { ...entry }])),
    total(operation) {
      let sum = 0;
      for (const [name, byUser] of counts) {
        if (operation !== undefined && name !== operation) continue;
        for (const value of byUser.values()) sum += value;
      }
      return sum;
    },
    clear: () => {
      counts.clear();
      overlap = new Map();
    },
  };
}
