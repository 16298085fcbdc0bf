import type { TestProject } from 'vitest/node';
import { prepareTemplate } from './database.ts';
import { startTestStack } from './stack.ts';
import './vitest-context.ts';

/**
 * Builds a vitest global setup: start the stack once, migrate the template once, hand the URLs to
 * every test file, and tear everything down at the end. The first line says which mode ran.
 */
export function createGlobalSetup({ migrate }: { migrate: (databaseUrl: string) => Promise<void> }) {
  return async function setup(project: TestProject) {
    const stack = await startTestStack();
    console.warn(`[testkit] test stack up — ${stack.describe()}`);
    try {
      const template = await prepareTemplate(stack.postgresAdminUrl, migrate);
      project.provide('testStack', {
        postgresAdminUrl: stack.postgresAdminUrl,
        redisUrl: stack.redisUrl,
        template: template.template,
        mode: stack.mode,
      });
      return async () => {
        await template.drop().catch(() => {});
        await stack.stop();
      };
    } catch (err) {
      await stack.stop();
      throw err;
    }
  };
}
