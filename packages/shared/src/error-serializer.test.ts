import { Writable } from 'node:stream';
import { useTestDatabase } from '@sts/testkit';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { createPool, type Pool } from './postgres.ts';

const database = useTestDatabase();

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'info', destination }) };
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the query to fail');
}

// Values a caller sent, which a failed query must not carry into a log line.
const LABEL = 'Studio Dr Bianchi';
const TAX_CODE = 'BNCLRA80A41H501D';

describe('errors in log lines', () => {
  let pool: Pool;
  const db = () => drizzle(pool);
  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'error-serializer-test' });
    await pool.query(
      'CREATE TABLE logged_things (id int PRIMARY KEY, label text NOT NULL UNIQUE, owner text, born date)',
    );
    await pool.query('INSERT INTO logged_things VALUES (1, $1, $2, NULL)', [LABEL, TAX_CODE]);
  });
  afterAll(() => pool.end());

  it('logs a failed drizzle query with its code, constraint, table and SQL, never its parameters', async () => {
    const error = await failure(() =>
      db().execute(sql`INSERT INTO logged_things VALUES (2, ${LABEL}, ${TAX_CODE}, NULL)`),
    );
    const { lines, logger } = capture();
    logger.error({ err: error }, 'unhandled error');
    const line = JSON.parse(lines[0]!) as {
      err: Record<string, unknown> & { cause: Record<string, unknown> };
    };
    expect(line.err).toMatchObject({
      type: 'DrizzleQueryError',
      query: 'INSERT INTO logged_things VALUES (2, $1, $2, NULL)',
      cause: {
        code: '23505',
        constraint: 'logged_things_label_key',
        table: 'logged_things',
        schema: 'public',
      },
    });
    expect(line.err.cause.message).toContain('"logged_things_label_key"');
    expect(lines[0]).not.toContain(LABEL);
    expect(lines[0]).not.toContain(TAX_CODE);
    expect(lines[0]).not.toContain('"params"');
    expect(lines[0]).not.toContain('"detail"');
  });

  it('hides values Postgres quotes in its own messages', async () => {
    const { lines, logger } = capture();
    for (const run of [
      () => pool.query('SELECT $1::uuid', [TAX_CODE]),
      () => pool.query('SELECT $1::date', [`0000-01-01 ${TAX_CODE}`]),
      () => pool.query('INSERT INTO logged_things VALUES (3, $1, $2, NULL)', [`a\u0000${TAX_CODE}`, 'x']),
      () => pool.query('INSERT INTO logged_things VALUES (4, NULL, $1, NULL)', [TAX_CODE]),
    ]) {
      logger.error({ err: await failure(run) }, 'query failed');
    }
    logger.error(await failure(() => db().execute(sql`SELECT ${TAX_CODE}::int`)), 'as the first argument');
    const text = lines.join('');
    expect(lines).toHaveLength(5);
    expect(text).toContain('"code":"22P02"');
    expect(text).toContain('"code":"23502"');
    expect(text).not.toContain(TAX_CODE);
    expect(text).not.toContain('Failing row');
  });

  it('keeps what other errors say, without a request packet or parameters', () => {
    const { lines, logger } = capture();
    const parserError = Object.assign(new Error('Parse Error: Header overflow'), {
      code: 'HPE_HEADER_OVERFLOW',
      rawPacket: Buffer.from(`GET / HTTP/1.1\r\nAuthorization: Bearer ${TAX_CODE}\r\n`),
    });
    logger.warn({ err: parserError }, 'client error');
    logger.error({ err: new Error('outer', { cause: new Error('inner reason') }) }, 'wrapped');
    const [client, wrapped] = lines.map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    expect(client!.err).toMatchObject({ type: 'Error', code: 'HPE_HEADER_OVERFLOW' });
    expect(client!.err.rawPacket).toBeUndefined();
    expect(lines[0]).not.toContain(TAX_CODE);
    expect(wrapped!.err.message).toBe('outer: inner reason');
  });
});
