import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, type Redis } from '@sts/shared';
import { useTestRedis } from '@sts/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  type CredentialPacing,
  createPacer,
  type LeaseWarning,
  type Pacer,
  type PacerOptions,
} from './pacer.ts';

const redisDatabase = useTestRedis();

/**
 * The lease of the tests that rely on it, and the waits scale with it. Renewed every third (1.33 s),
 * so a holder loses its slot only after a pause of more than two thirds of it (2.7 s) between two
 * renewals; a loaded machine pausing the test process for under a second stays far inside that.
 */
const LEASE_MS = 4_000;

/** Pacing through real Redis, as two submitter replicas share it. */
describe('pacer', () => {
  const clients: Redis[] = [];
  const pacers: Pacer[] = [];
  /** A replica: a pacer on a Redis connection of its own (`redisOf` gives it, to cut it). */
  const redisOf = new Map<Pacer, Redis>();
  const replica = (options: Partial<PacerOptions> & { keyPrefix: string }) => {
    const redis = createRedis(redisDatabase.url, `pacer-test-${clients.length}`);
    clients.push(redis);
    const pacer = createPacer({ redis, global: { requestsPerMinute: 100_000 }, ...options });
    pacers.push(pacer);
    redisOf.set(pacer, redis);
    return pacer;
  };
  /** Asks every 100 ms until an acquire is granted (at most three leases), counting the refusals before. */
  const acquiredEventually = async (pacer: Pacer, credentialId: string, pacing: CredentialPacing) => {
    let refusals = 0;
    const decision = await vi.waitFor(
      async () => {
        const attempt = await pacer.acquire(credentialId, pacing);
        if (!attempt.ok) {
          refusals++;
          throw new Error(`still refused: ${attempt.reason}`);
        }
        return attempt;
      },
      { timeout: 3 * LEASE_MS, interval: 100 },
    );
    return { decision, refusals };
  };
  const prefix = () => `test:${randomUUID()}`;

  afterAll(async () => {
    for (const pacer of pacers) await pacer.close();
    for (const redis of clients) redis.disconnect();
  });

  it.each([1, 3])(
    'never lets two replicas hold more than maxInFlight=%i slot(s) of a credential at once',
    async (maxInFlight) => {
      const keyPrefix = prefix();
      const replicas = [
        replica({ keyPrefix, inFlightRetryAfterMs: 1, inFlightLeaseMs: LEASE_MS }),
        replica({ keyPrefix, inFlightRetryAfterMs: 1, inFlightLeaseMs: LEASE_MS }),
      ];
      const credentialId = randomUUID();
      const pacing = { maxInFlight, requestsPerMinute: 100_000 };
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
      expect(maxHolders).toBe(maxInFlight);
      expect(granted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      expect(granted + refused).toBe(12 * 25);
    },
  );

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

  it("frees a dead holder's slot about one lease after its last renewal; until then it is refused", async () => {
    const keyPrefix = prefix();
    const warnings: LeaseWarning[] = [];
    const dead = replica({ keyPrefix, inFlightLeaseMs: LEASE_MS, onLeaseWarning: (w) => warnings.push(w) });
    const survivor = replica({ keyPrefix, inFlightLeaseMs: LEASE_MS });
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 1, requestsPerMinute: 100 };
    const held = await dead.acquire(credentialId, pacing);
    expect(held.ok).toBe(true);
    // Held for one and a half leases, past its first renewals: still the holder's.
    await sleep(1.5 * LEASE_MS);
    expect(await survivor.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    // The holder's process dies: its connection is gone, nothing renews the lease any more.
    redisOf.get(dead)!.disconnect();
    expect(await survivor.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    const { decision, refusals } = await acquiredEventually(survivor, credentialId, pacing);
    expect(decision.ok).toBe(true);
    expect(refusals).toBeGreaterThan(0);
    // Had the holder lived on, it would know its slot is gone.
    await vi.waitFor(() => expect(held.ok && held.lost).toBe(true), { timeout: 2 * LEASE_MS });
    expect(warnings).toEqual([expect.objectContaining({ kind: 'lease-lost', credentialId })]);
    await decision.release();
  });

  it("with several slots, frees the dead holder's one while the live holders keep theirs", async () => {
    const keyPrefix = prefix();
    const [live, dead, other] = [
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
    ];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 2, requestsPerMinute: 100 };
    const kept = await live!.acquire(credentialId, pacing);
    const abandoned = await dead!.acquire(credentialId, pacing);
    expect(kept.ok && abandoned.ok).toBe(true);
    redisOf.get(dead!)!.disconnect();
    const { decision } = await acquiredEventually(other!, credentialId, pacing);
    // The dead holder's slot went to `other`; the live holder's is still taken: no third.
    expect(await other!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    expect(kept.ok && kept.lost).toBe(false);
    await decision.release();
    if (kept.ok) await kept.release();
  });

  it("keeps a live holder's slot through a call of several leases: the others are refused throughout", async () => {
    const keyPrefix = prefix();
    const warnings: LeaseWarning[] = [];
    const [holder, other] = [
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS, onLeaseWarning: (w) => warnings.push(w) }),
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
    ];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 1, requestsPerMinute: 1_000 };
    const call = await holder!.acquire(credentialId, pacing);
    expect(call.ok).toBe(true);
    // Three leases: without its renewals the slot would be free after the first.
    const until = Date.now() + 3 * LEASE_MS;
    while (Date.now() < until) {
      expect(await other!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
      await sleep(200);
    }
    // One more once the three leases are over, however few the loop managed.
    expect(await other!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    expect(call.ok && call.lost).toBe(false);
    expect(warnings).toEqual([]);
    if (call.ok) await call.release();
    expect((await other!.acquire(credentialId, pacing)).ok).toBe(true);
  });

  it('a release after the lease was lost frees nothing of the holder that took the slot since', async () => {
    const keyPrefix = prefix();
    const [stalled, next, third] = [
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
      replica({ keyPrefix, inFlightLeaseMs: LEASE_MS }),
    ];
    const credentialId = randomUUID();
    const pacing = { maxInFlight: 1, requestsPerMinute: 100 };
    const late = await stalled!.acquire(credentialId, pacing);
    expect(late.ok).toBe(true);
    // The holder's process stalls (a long pause, as a frozen event loop): no renewal for 1.5 leases.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1.5 * LEASE_MS);
    const taken = await next!.acquire(credentialId, pacing);
    expect(taken.ok).toBe(true);
    await vi.waitFor(() => expect(late.ok && late.lost).toBe(true), { timeout: 2 * LEASE_MS });
    // The stalled holder answers at last and releases: the new holder's slot stays taken.
    if (late.ok) await late.release();
    expect(await third!.acquire(credentialId, pacing)).toMatchObject({ ok: false, reason: 'in-flight' });
    if (taken.ok) await taken.release();
    expect((await third!.acquire(credentialId, pacing)).ok).toBe(true);
  });

  it('a release never rejects, even without Redis (the lease then expires by itself)', async () => {
    const warnings: LeaseWarning[] = [];
    const pacer = replica({
      keyPrefix: prefix(),
      inFlightLeaseMs: LEASE_MS,
      onLeaseWarning: (w) => warnings.push(w),
    });
    const credentialId = randomUUID();
    const held = await pacer.acquire(credentialId, { maxInFlight: 1, requestsPerMinute: 100 });
    expect(held.ok).toBe(true);
    redisOf.get(pacer)!.disconnect();
    if (held.ok) await expect(held.release()).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ kind: 'release-failed', credentialId })]);
  });
});
