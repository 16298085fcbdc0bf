import { parseArgs } from 'node:util';
import { DemoError, describeSummary, runDemo } from './demo.ts';

/**
 * `node packages/demo/src/main.ts`: the first-run demo against a running stack (./run start runs it
 * once the services are healthy). Exit 0 when every event is final (rejections by the STS are part
 * of the demo), 1 when some are not final in time or a step failed.
 */
const USAGE = `Usage: node packages/demo/src/main.ts [options]
  --documents <n>     sample documents (default STS_DEMO_DOCUMENTS or 10000)
  --state-dir <dir>   where the demo keeps its API key, sample file and import state (default .data/local/demo)
  --gateway-url <url> the gateway (default STS_GATEWAY_URL or http://127.0.0.1:8080)
  --timeout <s>       how long to wait for every event to be final (default 1800)
  --json              print the summary as JSON on stdout
Needs DATABASE_URL (the gateway's database) the first time, to create the demo clinic.`;

const { values } = parseArgs({
  options: {
    documents: { type: 'string' },
    'state-dir': { type: 'string' },
    'gateway-url': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const whole = (name: string, text: string | undefined, fallback: number) => {
  const value = Number(text ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    process.stderr.write(`--${name} must be a whole number from 1 to 1000000\n\n${USAGE}\n`);
    process.exit(2);
  }
  return value;
};
const options = {
  documents: whole('documents', values.documents ?? process.env.STS_DEMO_DOCUMENTS, 10_000),
  stateDir: values['state-dir'] ?? '.data/local/demo',
  gatewayUrl: (values['gateway-url'] ?? process.env.STS_GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(
    /\/+$/,
    '',
  ),
  waitTimeoutSeconds: whole('timeout', values.timeout, 1800),
  links: { submitter: process.env.STS_DEMO_SUBMITTER_URL },
};
const say = (text: string) => process.stderr.write(`[demo] ${text.replace(/\n/g, '\n[demo] ')}\n`);

try {
  const summary = await runDemo({
    ...options,
    env: process.env,
    say,
    interactive: Boolean(process.stderr.isTTY),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${describeSummary(summary, options)}\n`);
  process.exitCode = summary.gateway.pending === 0 ? 0 : 1;
} catch (error) {
  say(error instanceof DemoError ? error.message : String((error as Error)?.stack ?? error));
  process.exitCode = 1;
}
