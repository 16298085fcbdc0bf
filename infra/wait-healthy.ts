// Waits until a /health URL answers 200 (at most WAIT_SECONDS, default 30); exits 1 with the last answer otherwise.
const [url] = process.argv.slice(2);
if (!url) throw new Error('usage: node infra/wait-healthy.ts <url>');
const deadline = Date.now() + Number(process.env.WAIT_SECONDS ?? 30) * 1000;
let last = 'no answer';
while (Date.now() < deadline) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (response.ok) process.exit(0);
    last = `HTTP ${response.status}: ${await response.text()}`;
  } catch (err) {
    last = err instanceof Error ? err.message : String(err);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.error(`${url} not healthy: ${last}`);
process.exit(1);
