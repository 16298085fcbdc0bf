import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors.ts';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';

export interface Connection {
  url: string;
  apiKey: string;
}

/** The config file: `STS_CONFIG`, else `$XDG_CONFIG_HOME/sts/config.json`, else `~/.config/sts/config.json`. */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.STS_CONFIG) return env.STS_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'sts', 'config.json');
}

function readConfig(path: string, explicit: boolean): { url?: string; apiKey?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`config file ${path}: not JSON (expected { "url": "…", "apiKey": "sts_…" })`);
  }
  if (!parsed || typeof parsed !== 'object') throw new UsageError(`config file ${path}: not a JSON object`);
  const { url, apiKey } = parsed as Record<string, unknown>;
  if (url !== undefined && typeof url !== 'string')
    throw new UsageError(`config file ${path}: "url" must be a string`);
  if (apiKey !== undefined && typeof apiKey !== 'string')
    throw new UsageError(`config file ${path}: "apiKey" must be a string`);
  return { url, apiKey };
}

/**
 * The gateway and the API key, each from the first that has it: the flag (`--url`, `--api-key`),
 * the environment (`STS_GATEWAY_URL`, `STS_API_KEY`), the config file; the URL defaults to
 * http://127.0.0.1:8080.
 */
export function resolveConnection(
  flags: { url?: string; apiKey?: string },
  env: Record<string, string | undefined>,
): Connection {
  const path = configPath(env);
  const file = readConfig(path, Boolean(env.STS_CONFIG));
  const url = flags.url || env.STS_GATEWAY_URL || file.url || DEFAULT_GATEWAY_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`gateway URL "${url}" is not an http:// or https:// URL`);
  }
  const apiKey = flags.apiKey || env.STS_API_KEY || file.apiKey;
  if (!apiKey)
    throw new UsageError(
      `no API key: give --api-key, set STS_API_KEY, or put { "apiKey": "sts_…" } in ${path}`,
    );
  return { url: url.replace(/\/+$/, ''), apiKey };
}
