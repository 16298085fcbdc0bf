import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/**
 * One prom-client registry per service: the Node process metrics (CPU, memory, event-loop lag, GC,
 * handles) and the service's own, every series labelled `service="<name>"`. A registry of its own
 * rather than prom-client's global one, so that tests building several apps in one process do not
 * register the same metric twice.
 */
export function createServiceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `GET /metrics`: the registry in the Prometheus text format, gauges collected at scrape time. */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry): void {
  // Scraped every few seconds: only failures are worth a log line.
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
