import { context, propagation } from '@opentelemetry/api';

/**
 * The W3C trace context of the active span (`traceparent`, `tracestate`), for work handed to another
 * process through a queue, so its spans join the trace; `undefined` when nothing is being traced.
 */
export function currentTraceContext(): { traceparent: string; tracestate?: string } | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return {
    traceparent: carrier.traceparent,
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}
