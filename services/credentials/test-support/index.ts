// `@sts/credentials/testing`: the credentials service's test harness (real Postgres, Redis and STS
// simulator) and certificate builders. Test support only: it lives outside `src/`, and images
// leave it out.
export * from './certificates.ts';
export * from './harness.ts';
export * from './https-client.ts';
