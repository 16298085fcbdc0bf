import { type Clock, createServiceRegistry } from '@sts/shared';
import { type SanitelCertificateSet, sanitelCertificateAdvice } from '@sts/sts';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import { credentialsTable } from '../credentials/credentials-table.ts';
import type { Queryable } from '../db/database.ts';

/**
 * Counters of what the vault does, served on `GET /metrics` from the service's prom-client registry
 * together with gauges read from the database at scrape time (credentials per status, passwords
 * close to expiry). Labels hold outcomes and statuses only, never users or tenants' data.
 */
export interface CredentialMetrics {
  readonly registry: Registry;
  increment(name: CounterName, labels?: Record<string, string>): void;
  /** Where the gauges are read from at each scrape (the app's database and clock). */
  readGaugesFrom(db: Queryable, clock: Clock): void;
  /** How the gauge of logins with a spent budget is read at each scrape. */
  countSpentLoginsWith(count: () => Promise<number>): void;
  /** The SanitelCF certificates per environment, for the gauge of days left on the one in use. */
  watchSanitelCertificates(sets: Partial<Record<string, SanitelCertificateSet>>, clock: Clock): void;
}

const COUNTERS = {
  credentials_tests_total: {
    help: 'Credential tests run against the STS, by outcome.',
    labelNames: ['outcome'],
  },
  credentials_leases_total: {
    help: 'Leases asked for, by result (issued, refused).',
    labelNames: ['result'],
  },
  credentials_authentication_failures_total: {
    help: 'Authentication failures reported by senders, by whether they applied.',
    labelNames: ['applied'],
  },
  credentials_expiry_warnings_total: {
    help: 'Expiry warnings raised, by what expires (password, certificate: a client certificate, sanitel-certificate: the SanitelCF certificate in use, days 0 once none is valid) and threshold in days.',
    labelNames: ['days', 'what'],
  },
  credentials_events_publish_failures_total: {
    help: 'Credential events that could not be published to Redis.',
    labelNames: [],
  },
  credentials_secret_integrity_failures_total: {
    help: 'Secrets that did not decrypt (tampering, moved rows).',
    labelNames: [],
  },
  credentials_failed_logins_total: {
    help: 'Failed STS logins counted against a login budget, by outcome and by what saw them (test, report).',
    labelNames: ['outcome', 'via'],
  },
  credentials_login_attempts_refused_total: {
    help: 'Attempts refused without any STS call, by reason (login-budget-spent, password-known-to-fail) and attempt (test, lease, create, update).',
    labelNames: ['attempt', 'reason'],
  },
  credentials_login_budget_resets_total: {
    help: "Logins' failed-login budgets reset by an administrator.",
    labelNames: [],
  },
  credentials_master_key_missing_total: {
    help: 'Secrets not read because their master key is not configured on this replica (a key made active before every replica had it).',
    labelNames: [],
  },
} as const satisfies Record<string, { help: string; labelNames: readonly string[] }>;
export type CounterName = keyof typeof COUNTERS;

/** Label names in alphabetical order, as the series have always been written. */
const sortedLabels = (labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

export function createCredentialMetrics(
  registry: Registry = createServiceRegistry('credentials'),
): CredentialMetrics {
  const counters = new Map<CounterName, Counter<string>>();
  for (const [name, { help, labelNames }] of Object.entries(COUNTERS) as [
    CounterName,
    (typeof COUNTERS)[CounterName],
  ][]) {
    counters.set(name, new Counter({ name, help, labelNames: [...labelNames], registers: [registry] }));
  }

  let source: { db: Queryable; clock: Clock } | undefined;
  new Gauge({
    name: 'credentials_by_status',
    help: 'Credentials per status and environment.',
    labelNames: ['environment', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      if (!source) return;
      const rows = await source.db
        .select({
          status: credentialsTable.status,
          environment: credentialsTable.environment,
          count: sql<number>`count(*)::int`,
        })
        .from(credentialsTable)
        .groupBy(credentialsTable.status, credentialsTable.environment);
      for (const row of rows) this.set({ environment: row.environment, status: row.status }, row.count);
    },
  });
  new Gauge({
    name: 'credentials_password_min_days_left',
    help: 'Days until the soonest expected password expiry among usable credentials.',
    registers: [registry],
    async collect() {
      // No series at all when no usable credential has an expiry: 0 would read as "expires today".
      this.remove();
      if (!source) return;
      const now = source.clock();
      const [soonest] = await source.db
        .select({
          days: sql<
            number | null
          >`floor(extract(epoch from min(${credentialsTable.passwordExpiresAt}) - ${now.toISOString()}::timestamptz) / 86400)::int`,
        })
        .from(credentialsTable)
        .where(sql`${credentialsTable.status} not in ('invalid', 'expired')`);
      if (soonest?.days !== null && soonest?.days !== undefined) this.set(soonest.days);
    },
  });

  let spentLogins: (() => Promise<number>) | undefined;
  new Gauge({
    name: 'credentials_logins_budget_spent',
    help: 'STS logins whose failed-login budget is spent: nothing is sent with them until a successful login or a reset.',
    registers: [registry],
    async collect() {
      if (spentLogins) this.set(await spentLogins());
    },
  });

  let sanitel: { sets: Partial<Record<string, SanitelCertificateSet>>; clock: Clock } | undefined;
  new Gauge({
    name: 'credentials_sanitel_certificate_days_left',
    help: 'Days until the SanitelCF certificate in use (the newest valid one configured) expires, negative once it has, per environment; serial and basis (valid, expired, not-yet-valid) as labels.',
    labelNames: ['basis', 'environment', 'serial'],
    registers: [registry],
    collect() {
      this.reset();
      if (!sanitel) return;
      const now = sanitel.clock();
      for (const [environment, set] of Object.entries(sanitel.sets)) {
        if (!set) continue;
        const { basis, inUse, daysLeft } = sanitelCertificateAdvice(set, now);
        this.set({ basis, environment, serial: inUse.serialNumber }, daysLeft);
      }
    },
  });

  return {
    registry,
    increment(name, labels = {}) {
      counters.get(name)!.inc(sortedLabels(labels));
    },
    readGaugesFrom(db, clock) {
      source = { db, clock };
    },
    countSpentLoginsWith(count) {
      spentLogins = count;
    },
    watchSanitelCertificates(sets, clock) {
      sanitel = { sets, clock };
    },
  };
}
