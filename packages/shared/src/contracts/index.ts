export * from './api-key-scopes.ts';
export * from './credential-events.ts';
export * from './credential-lease.ts';
export * from './document-status.ts';
export * from './internal-routes.ts';
export * from './job-catalogue.ts';
export * from './submission-proofs.ts';
export * from './tenant-id.ts';
