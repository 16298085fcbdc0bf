import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, type Redis } from '@sts/shared';
import { useTestRedis } from '@sts/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPacer, type Pacer } from './pacer.ts';

const redisDatabase = useTestRedis();

/** Pacing through real Redis, as two submitter replicas share it. */
describe('pacer', () => {
  const clients: Redis[] = [];
  const pacers: Pacer[] = [];
  const replica = (options: Partial<Parameters<typeof createPacer>[0]> & { keyPrefix: string }) => {
    const redis = createRedis(redisDatabase.url, `pacer-test-${clients.length}`);
    clients.push(redis);
    const pacer = createPacer({ redis, global: { requestsPerMinute: 100_000 }, ...options });
    pacers.push(pacer);
    return pacer;
  };
  const prefix = () => `test:${randomUUID()}`;

  afterAll(async () => {
    for (const pacer of pacers) await pacer.close();
    for (const redis of clients) redis.disconnect();
  });

  it('never lets two replicas hold more than maxInFlight=1 slot of a credential at once', async () => {
    const keyPrefix = prefix();
    const replicas = [
      replica({ keyPrefix, inFlightRetryAfterMs: 1 }),
      replica({ keyPrefix, inFlightRetryAfterMs: 1 }),
    ];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 1, requestsPerMinute: 100_000 };
    let holders = 0;
    let maxHolders = 0;
    let granted = 0;
    let refused = 0;
    const loop = async (pacer: Pacer) => {
      for (let round = 0; round < 25; round++) {
        const decision = await pacer.acquire(credentialId, pacing);
        if (!decision.ok) {
          refused++;
          expect(decision.reason).toBe('in-flight');
          await sleep(1);
          continue;
        }
        granted++;
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        // Hold it across a few turns of the event loop, so the other loops try meanwhile.
        await sleep(Math.floor(Math.random() * 3));
        holders--;
        await decision.release();
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, index) => loop(replicas[index % 2]!)));
    expect(maxHolders).toBe(1);
    expect(granted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(granted + refused).toBe(12 * 25);
  });

  it('allows maxInFlight slots at once and gives one back on release', async () => {
    const keyPrefix = prefix();
    const [a, b] = [replica({ keyPrefix }), replica({ keyPrefix })];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 2, requestsPerMinute: 100 };
    const first = await a!.acquire(credentialId, pacing);
    const second = await b!.acquire(credentialId, pacing);
    expect(first.ok && second.ok).toBe(true);
    const third = await a!.acquire(credentialId, pacing);
    expect(third).toMatchObject({ ok: false, reason: 'in-flight' });
    if (first.ok) {
      await first.release();
      await first.release(); // twice: still one slot given back
    }
    const fourth = await b!.acquire(credentialId, pacing);
    expect(fourth.ok).toBe(true);
    expect((await a!.acquire(credentialId, pacing)).ok).toBe(false);
  });

  it('refuses a credential past its calls per minute, with a retryAfterMs; another credential is unaffected', async () => {
    const pacer = replica({ keyPrefix: prefix() });
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 5, requestsPerMinute: 3 };
    for (let call = 0; call < 3; call++) {
      const decision = await pacer.acquire(credentialId, pacing);
      expect(decision.ok).toBe(true);
      if (decision.ok) await decision.release();
    }
    const refused = await pacer.acquire(credentialId, pacing);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toBe('credential-rate');
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    // The refusal gave its in-flight slot back: all five are free.
    const held = [];
    const other = randomUUID();
    for (let call = 0; call < 3; call++) held.push(await pacer.acquire(other, pacing));
    expect(held.every((decision) => decision.ok)).toBe(true);
  });

  it('applies the global budget across credentials and replicas', async () => {
    const keyPrefix = prefix();
    const [a, b] = [
      replica({ keyPrefix, global: { requestsPerMinute: 4 } }),
      replica({ keyPrefix, global: { requestsPerMinute: 4 } }),
    ];
    const pacing = { maxInFlight: 1, requestsPerMinute: 100 };
    for (let call = 0; call < 4; call++) {
      const decision = await (call % 2 ? a : b)!.acquire(randomUUID(), pacing);
      expect(decision.ok).toBe(true);
    }
    const credentialId = randomUUID();
    const refused = await a!.acquire(credentialId, pacing);
    expect(refused).toMatchObject({ ok: false, reason: 'global-rate' });
    if (!refused.ok) expect(refused.retryAfterMs).toBeGreaterThan(0);
    // Refused overall: the credential's own slot and call were given back.
    const limited = replica({ keyPrefix, global: { requestsPerMinute: 4 } });
    expect(await limited.acquire(credentialId, { maxInFlight: 1, requestsPerMinute: 1 })).toMatchObject({
      ok: false,
      reason: 'global-rate',
    });
  });

  it('frees a slot never released once its safety expiry passes; the late release frees nothing', async () => {
    const keyPrefix = prefix();
    const [crashed, survivor] = [
      replica({ keyPrefix, inFlightExpirySeconds: 1 }),
      replica({ keyPrefix, inFlightExpirySeconds: 1 }),
    ];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 1, requestsPerMinute: 100 };
    const lost = await crashed!.acquire(credentialId, pacing);
    expect(lost.ok).toBe(true);
    expect(await survivor!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    const taken = await vi.waitFor(
      async () => {
        const decision = await survivor!.acquire(credentialId, pacing);
        if (!decision.ok) throw new Error('still held');
        return decision;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(taken.ok).toBe(true);
    // The holder that was thought dead answers at last: its slot is gone, the survivor's stays.
    if (lost.ok) await lost.release();
    expect(await crashed!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    await taken.release();
    expect((await crashed!.acquire(credentialId, pacing)).ok).toBe(true);
  });
});
