import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CREDENTIAL_EVENTS_STREAM,
  type CredentialEvent,
  createRedis,
  encodeCredentialEvent,
  type Redis,
} from '@sts/shared';
import { useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createCredentialEventsReader,
  SUBMITTER_CREDENTIAL_EVENTS_GROUP,
} from './credential-events-reader.ts';

const redisDatabase = useTestRedis();

const silent = { warn: () => undefined, error: () => undefined };
const event = (overrides: Partial<CredentialEvent> = {}): CredentialEvent => ({
  type: 'credential.status-changed',
  tenantId: 'clinic',
  credentialId: randomUUID(),
  status: 'invalid',
  usable: false,
  reason: 'wrong-or-expired-password',
  at: new Date('2026-03-01T10:00:00.000Z'),
  ...overrides,
});

/** The consumer group `submitter` on real Redis, shared by two readers as by two replicas. */
describe('credential events reader', () => {
  let redis: Redis;
  const append = (value: CredentialEvent) =>
    redis.xadd(CREDENTIAL_EVENTS_STREAM, '*', ...encodeCredentialEvent(value));

  beforeAll(() => {
    redis = createRedis(redisDatabase.url, 'credential-events-test');
  });
  beforeEach(async () => {
    await redis.del(CREDENTIAL_EVENTS_STREAM);
  });
  afterAll(() => redis.disconnect());

  it('hands each event to one of two readers, once, and acknowledges it', async () => {
    const seen: { reader: string; event: CredentialEvent }[] = [];
    const readers = ['a', 'b'].map((name) =>
      createCredentialEventsReader({
        redis,
        logger: silent,
        consumer: name,
        batchSize: 7,
        onEvent: async (value) => {
          await sleep(Math.floor(Math.random() * 2));
          seen.push({ reader: name, event: value });
        },
      }),
    );
    await readers[0]!.ensureGroup();
    const sent = Array.from({ length: 60 }, (_, index) =>
      event({
        daysLeft: index,
        type: 'credential.password-expiring',
        status: 'password_expiring',
        usable: true,
      }),
    );
    for (const value of sent) await append(value);
    // A bad entry is skipped and acknowledged, the others go on.
    await redis.xadd(CREDENTIAL_EVENTS_STREAM, '*', 'type', 'credential.nonsense');

    const handled = await Promise.all(readers.map((reader) => reader.pass()));
    expect(handled[0]! + handled[1]!).toBe(61);
    expect(seen.map(({ event: value }) => value.daysLeft).sort((x, y) => x! - y!)).toEqual(
      sent.map((value) => value.daysLeft),
    );
    expect(seen[0]!.event).toEqual(sent.find((value) => value.daysLeft === seen[0]!.event.daysLeft));
    const pending = (await redis.xpending(CREDENTIAL_EVENTS_STREAM, SUBMITTER_CREDENTIAL_EVENTS_GROUP)) as [
      number,
    ];
    expect(pending[0]).toBe(0);
    expect(await Promise.all(readers.map((reader) => reader.pass()))).toEqual([0, 0]);
  });

  it('leaves an event whose handler failed pending, and handles it again later (in any reader)', async () => {
    let failures = 1;
    const handled: string[] = [];
    const onEvent = async (value: CredentialEvent) => {
      if (failures > 0) {
        failures--;
        throw new Error('database away');
      }
      handled.push(value.credentialId);
    };
    const [first, second] = ['a', 'b'].map((name) =>
      createCredentialEventsReader({ redis, logger: silent, consumer: name, claimIdleMs: 50, onEvent }),
    );
    await first!.ensureGroup();
    const failing = event();
    const next = event();
    await append(failing);
    await append(next);

    // The first fails, the next is handled all the same.
    expect(await first!.pass()).toBe(1);
    expect(handled).toEqual([next.credentialId]);
    const [count] = (await redis.xpending(CREDENTIAL_EVENTS_STREAM, SUBMITTER_CREDENTIAL_EVENTS_GROUP)) as [
      number,
    ];
    expect(count).toBe(1);

    // Not claimed before it has been pending for claimIdleMs; then the other reader takes it over.
    expect(await second!.pass()).toBe(0);
    await sleep(80);
    expect(await second!.pass()).toBe(1);
    expect(handled).toEqual([next.credentialId, failing.credentialId]);
    const [left] = (await redis.xpending(CREDENTIAL_EVENTS_STREAM, SUBMITTER_CREDENTIAL_EVENTS_GROUP)) as [
      number,
    ];
    expect(left).toBe(0);
  });

  it('gives up an event whose handler fails maxDeliveries times', async () => {
    const errors: unknown[] = [];
    const reader = createCredentialEventsReader({
      redis,
      logger: { warn: () => undefined, error: (...args: unknown[]) => errors.push(args) },
      consumer: 'a',
      claimIdleMs: 10,
      maxDeliveries: 3,
      onEvent: () => {
        throw new Error('always');
      },
    });
    await reader.ensureGroup();
    await append(event());
    expect(await reader.pass()).toBe(0);
    for (let round = 0; round < 5 && errors.length === 0; round++) {
      await sleep(20);
      await reader.pass();
    }
    expect(errors).toHaveLength(1);
    const [left] = (await redis.xpending(CREDENTIAL_EVENTS_STREAM, SUBMITTER_CREDENTIAL_EVENTS_GROUP)) as [
      number,
    ];
    expect(left).toBe(0);
  });

  it('creates its group again after Redis lost it (a pass fails once, the next one reads on)', async () => {
    const seen: CredentialEvent[] = [];
    const reader = createCredentialEventsReader({
      redis,
      logger: silent,
      consumer: 'r',
      onEvent: (value) => void seen.push(value),
    });
    await reader.pass();
    // Redis lost its data: the stream and its group are gone; a new event arrives.
    await redis.del(CREDENTIAL_EVENTS_STREAM);
    await expect(reader.pass()).rejects.toThrow(/NOGROUP/);
    await reader.pass();
    const late = event();
    await append(late);
    await reader.pass();
    expect(seen.map((value) => value.credentialId)).toEqual([late.credentialId]);
  });

  it('runs passes on its own between start() and stop()', async () => {
    const handled: string[] = [];
    const reader = createCredentialEventsReader({
      redis,
      logger: silent,
      consumer: 'a',
      intervalMs: 20,
      onEvent: (value) => {
        handled.push(value.credentialId);
      },
    });
    await reader.ensureGroup();
    reader.start();
    const value = event();
    await append(value);
    for (let round = 0; round < 100 && handled.length === 0; round++) await sleep(20);
    await reader.stop();
    expect(handled).toEqual([value.credentialId]);
  });
});
