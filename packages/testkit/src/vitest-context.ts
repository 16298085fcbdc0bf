/** What the global setup hands every test file (through vitest's provide/inject). */
export interface ProvidedTestStack {
  postgresAdminUrl: string;
  redisUrl: string;
  template: string;
  mode: { postgres: string; redis: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testStack: ProvidedTestStack;
  }
}
