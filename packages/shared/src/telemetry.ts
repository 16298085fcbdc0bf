import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when an OTLP endpoint is configured; otherwise the API stays a no-op and costs
 * nothing. Instrumentations (HTTP, fastify, pg, ioredis, BullMQ, SOAP) are added as the services
 * grow; trace context travels through the outbox and job data, never patient data.
 */
export function startTelemetry({
  serviceName,
  endpoint,
}: {
  serviceName: string;
  endpoint?: string;
}): Telemetry {
  if (!endpoint) return { enabled: false, shutdown: async () => {} };
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
