import type { OperationName } from '../protocol/services.ts';

/** Calls received per operation and user (the user named in the Authorization header, verified or not). */
export interface CallCounters {
  record(operation: OperationName, user: string | undefined): void;
  snapshot(): Record<string, Record<string, number>>;
  total(operation?: OperationName): number;
  clear(): void;
}

/** Calls without a readable Authorization header. */
export const ANONYMOUS = '(none)';

export function createCallCounters(): CallCounters {
  const counts = new Map<OperationName, Map<string, number>>();
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
    snapshot: () =>
      Object.fromEntries([...counts].map(([operation, byUser]) => [operation, Object.fromEntries(byUser)])),
    total(operation) {
      let sum = 0;
      for (const [name, byUser] of counts) {
        if (operation !== undefined && name !== operation) continue;
        for (const value of byUser.values()) sum += value;
      }
      return sum;
    },
    clear: () => counts.clear(),
  };
}
