import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'testkit' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the run's template database and runs every migration on it, once. Each test file then
 * clones it (CREATE DATABASE … TEMPLATE), which takes milliseconds and isolates files completely.
 */
export async function prepareTemplate(
  adminUrl: string,
  migrate: (url: string) => Promise<void>,
): Promise<{ template: string; drop(): Promise<void> }> {
  const template = `testkit_template_${process.pid}`;
  await withAdmin(adminUrl, async (client) => {
    await client.query(`drop database if exists "${template}" with (force)`);
    await client.query(`create database "${template}"`);
  });
  await migrate(databaseUrl(adminUrl, template));
  return {
    template,
    drop: () =>
      withAdmin(adminUrl, (client) =>
        client.query(`drop database if exists "${template}" with (force)`),
      ).then(() => {}),
  };
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabaseFromTemplate(adminUrl: string, template: string): Promise<TestDatabase> {
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`create database "${name}" template "${template}"`));
  return {
    name,
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`)).then(
        () => {},
      ),
  };
}
