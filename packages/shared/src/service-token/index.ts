export * from './service-token.ts';
export * from './service-token-config.ts';
export * from './service-token-plugin.ts';
