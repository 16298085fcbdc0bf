// `@sts/sts-simulator/testing`: what tests (of this package and of others) use to drive the
// simulator: the harness, kit-shaped envelope builders, MTOM framing, upload/query flows, the kit's
// actors and SoapUI samples. Test support only: it lives outside `src/`, and images leave it out.
export * from './envelopes.ts';
export * from './flows.ts';
export * from './harness.ts';
export * from './kit-actors.ts';
export * from './kit-samples.ts';
