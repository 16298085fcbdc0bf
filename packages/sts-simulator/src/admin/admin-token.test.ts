import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSimulator } from '../simulator.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sts-simulator-admin-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('admin token', () => {
  it('is always required: without one configured the simulator makes one, and every admin route refuses a missing or wrong token', async () => {
    const sim = await buildSimulator({ schemaValidation: false });
    const routes: { method: string; url: string }[] = [];
    sim.app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/__admin')) return;
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routes.push({ method, url: route.url.replace(/:[a-z]+/g, 'X') });
      }
    });
    const url = await sim.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect(sim.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(routes.length).toBeGreaterThanOrEqual(19);
      const call = (route: { method: string; url: string }, headers: Record<string, string> = {}) =>
        fetch(`${url}${route.url}`, { method: route.method, headers });
      for (const route of routes) {
        const attempts: Record<string, string>[] = [
          {},
          { authorization: 'Bearer wrong-but-long-enough-token' },
          { authorization: `Bearer ${sim.adminToken}x` },
          { 'x-admin-token': sim.adminToken.slice(1) },
          { authorization: `Basic ${Buffer.from(`admin:${sim.adminToken}`).toString('base64')}` },
        ];
        for (const headers of attempts) {
          const answer = await call(route, headers);
          expect(answer.status, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(401);
          expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
          expect(((await answer.json()) as { type: string }).type).toMatch(/\/admin-token$/);
        }
      }
      const good = await call(
        { method: 'GET', url: '/__admin/counters' },
        { authorization: `Bearer ${sim.adminToken}` },
      );
      expect(good.status).toBe(200);
      const alternative = await call(
        { method: 'GET', url: '/__admin/certificate' },
        { 'x-admin-token': sim.adminToken },
      );
      expect(alternative.status).toBe(200);
      // SOAP, WSDL and health stay open.
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await sim.app.close();
    }
  });

  it('uses the configured token when given one', async () => {
    const sim = await buildSimulator({ schemaValidation: false, adminToken: 'a-long-admin-token-for-tests' });
    try {
      expect(sim.adminToken).toBe('a-long-admin-token-for-tests');
      const answer = await sim.app.inject({
        method: 'GET',
        url: '/__admin/counters',
        headers: { authorization: 'Bearer a-long-admin-token-for-tests' },
      });
      expect(answer.statusCode).toBe(200);
      expect((await sim.app.inject({ method: 'GET', url: '/__admin/counters' })).statusCode).toBe(401);
    } finally {
      await sim.app.close();
    }
  });
});

/** `src/main.ts` as `./run start` runs it: a child process with a state directory. */
async function startMain(env: Record<string, string>): Promise<{
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}> {
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      STS_SIM_SCHEMA_VALIDATION: 'false',
      STS_SIM_VALIDATION_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main.ts did not start:\n${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const address = /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1];
      if (address) {
        clearTimeout(timer);
        resolve(address);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(() => reject(new Error(`main.ts exited:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('admin token of src/main.ts', () => {
  it('without STS_SIM_ADMIN_TOKEN: generated at the first start, printed once, kept in the state directory (0600), the same after a restart', async () => {
    const stateDir = path.join(dir, 'main-state');
    const tokenFile = path.join(stateDir, 'admin-token');
    const first = await startMain({ STS_SIM_STATE_FILE: path.join(stateDir, 'state.ndjson') });
    let token: string;
    try {
      expect(existsSync(tokenFile)).toBe(true);
      token = readFileSync(tokenFile, 'utf8').trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(first.output()).toContain(token);
      expect(first.output()).toContain(tokenFile);
      expect((await fetch(`${first.url}/__admin/counters`)).status).toBe(401);
      const authorized = await fetch(`${first.url}/__admin/counters`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(authorized.status).toBe(200);
    } finally {
      await first.stop();
    }

    const second = await startMain({ STS_SIM_STATE_FILE: path.join(stateDir, 'state.ndjson') });
    try {
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
      // Printed once: a restart says where the token is, not what it is.
      expect(second.output()).not.toContain(token);
      expect(second.output()).toContain(tokenFile);
      expect((await fetch(`${second.url}/__admin/counters`)).status).toBe(401);
      const authorized = await fetch(`${second.url}/__admin/counters`, {
        headers: { 'x-admin-token': token },
      });
      expect(authorized.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('with STS_SIM_ADMIN_TOKEN: that token, never printed, no file written', async () => {
    const stateDir = path.join(dir, 'configured-state');
    const configured = 'configured-admin-token-0123456789';
    const sim = await startMain({
      STS_SIM_STATE_FILE: path.join(stateDir, 'state.ndjson'),
      STS_SIM_ADMIN_TOKEN: configured,
    });
    try {
      expect(existsSync(path.join(stateDir, 'admin-token'))).toBe(false);
      expect(sim.output()).not.toContain(configured);
      expect((await fetch(`${sim.url}/__admin/counters`)).status).toBe(401);
      const authorized = await fetch(`${sim.url}/__admin/counters`, {
        headers: { authorization: `Bearer ${configured}` },
      });
      expect(authorized.status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  it('without a state file either: generated in memory and printed', async () => {
    const sim = await startMain({});
    try {
      const token = /admin token[^:]*: ([A-Za-z0-9_-]{43})/.exec(sim.output())?.[1];
      expect(token).toBeDefined();
      expect((await fetch(`${sim.url}/__admin/counters`)).status).toBe(401);
      expect(
        (await fetch(`${sim.url}/__admin/counters`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      ).toBe(200);
    } finally {
      await sim.stop();
    }
  });
});
