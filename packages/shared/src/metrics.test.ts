import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from './http-app.ts';
import { createLogger } from './logger.ts';
import { createServiceRegistry, registerMetricsRoute } from './metrics.ts';

describe('service metrics', () => {
  it('serves the registry on GET /metrics, Node metrics included, every series labelled with the service', async () => {
    const registry = createServiceRegistry('example');
    new Counter({
      name: 'example_jobs_total',
      help: 'Jobs.',
      labelNames: ['result'],
      registers: [registry],
    }).inc({ result: 'done' });
    const app = createHttpApp({ logger: createLogger({ name: 'example', level: 'silent' }) });
    registerMetricsRoute(app, registry);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(response.body).toContain('# TYPE example_jobs_total counter');
    expect(response.body).toContain('example_jobs_total{result="done",service="example"} 1');
    expect(response.body).toMatch(/^process_resident_memory_bytes\{service="example"\} \d+$/m);
    expect(response.body).toMatch(/^nodejs_eventloop_lag_seconds\{service="example"\} /m);
    await app.close();
  });

  it('keeps each registry apart: two apps in one process may register the same metric names', () => {
    const build = () =>
      new Counter({ name: 'twice_total', help: 'Twice.', registers: [createServiceRegistry('twice')] });
    build();
    expect(build).not.toThrow();
  });
});
