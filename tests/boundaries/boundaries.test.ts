// The part boundaries (.dependency-cruiser.mjs) catch what they say they catch: a small fixture
// monorepo breaks each rule once (and does a few allowed things), and dependency-cruiser, run with the
// project's own configuration, must report exactly those breaches under the right rule names. The
// real tree must have none.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, format, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = path.join(ROOT, '.dependency-cruiser.mjs');

// package folder → [package name, exports]
const PACKAGES: Record<string, [string, Record<string, string>]> = {
  'packages/shared': ['@sts/shared', { '.': './src/index.ts' }],
  'packages/sts': ['@sts/sts', { '.': './src/index.ts' }],
  'packages/sts-simulator': [
    '@sts/sts-simulator',
    { '.': './src/index.ts', './testing': './test-support/index.ts' },
  ],
  'packages/testkit': ['@sts/testkit', { '.': './src/index.ts' }],
  'packages/cli': ['@sts/cli', { '.': './src/main.ts' }],
  'services/gateway': ['@sts/gateway', { '.': './src/app.ts' }],
  'services/credentials': ['@sts/credentials', { '.': './src/app.ts' }],
};

// file → its imports. Files named `allowed` or entry points break no rule; the others break the rules
// listed in EXPECTED.
const FILES: Record<string, string[]> = {
  'packages/shared/src/index.ts': [],
  'packages/shared/src/leans-on-sts.ts': ['@sts/sts'],
  'packages/shared/src/ships-testkit.ts': ['@sts/testkit'],
  'packages/shared/src/allowed.test.ts': ['@sts/testkit', './index.ts'],
  'packages/shared/src/reaches-out.test.ts': ['@sts/sts'],

  'packages/sts/src/index.ts': ['@sts/shared'],
  'packages/sts/src/needs-simulator.ts': ['@sts/sts-simulator'],
  'packages/sts/src/needs-a-service.ts': ['@sts/gateway'],

  'packages/sts-simulator/src/index.ts': ['@sts/sts', '@sts/shared'],
  'packages/sts-simulator/src/main.ts': ['./index.ts'],
  'packages/sts-simulator/test-support/index.ts': ['../src/index.ts', '@sts/testkit'],

  'packages/testkit/src/index.ts': [],

  'packages/cli/src/main.ts': ['./allowed.ts'],
  'packages/cli/src/allowed.ts': [],
  'packages/cli/src/runs-the-gateway.ts': ['@sts/gateway'],

  'services/credentials/src/app.ts': ['@sts/shared', '@sts/sts'],

  'services/gateway/src/app.ts': ['@sts/shared'],
  'services/gateway/src/calls-credentials.ts': ['@sts/credentials'],
  'services/gateway/src/reaches-into-credentials.ts': ['../../credentials/src/app.ts'],
  'services/gateway/src/ships-test-packages.ts': ['@sts/testkit', '@sts/sts-simulator'],
  'services/gateway/src/ships-harness.ts': ['../test-support/harness.ts'],
  'services/gateway/test-support/harness.ts': ['../src/app.ts', '@sts/testkit', '@sts/sts-simulator/testing'],
  'services/gateway/src/app.test.ts': [
    './app.ts',
    '../test-support/harness.ts',
    '@sts/testkit',
    '@sts/sts-simulator',
    '@sts/sts-simulator/testing',
  ],
  'services/gateway/src/reaches-into-sts.test.ts': ['../../../packages/sts/src/index.ts'],
  'services/gateway/src/reaches-into-simulator-support.test.ts': [
    '../../../packages/sts-simulator/test-support/index.ts',
  ],

  'tests/allowed.test.ts': ['@sts/sts', '@sts/sts-simulator/testing', '@sts/testkit'],
  'tests/reaches-in.test.ts': ['../packages/sts/src/index.ts'],
  'tests/unexported-path.test.ts': ['@sts/sts/src/index.ts'],
};

const EXPECTED = [
  'no-service-imports-another-service: services/gateway/src/calls-credentials.ts → services/credentials/src/app.ts',
  'no-service-imports-another-service: services/gateway/src/reaches-into-credentials.ts → services/credentials/src/app.ts',
  'use-entry-points: services/gateway/src/reaches-into-credentials.ts → services/credentials/src/app.ts',

  'sts-imports-no-service-nor-simulator: packages/sts/src/needs-simulator.ts → packages/sts-simulator/src/index.ts',
  'no-test-code-in-production: packages/sts/src/needs-simulator.ts → packages/sts-simulator/src/index.ts',
  'sts-imports-no-service-nor-simulator: packages/sts/src/needs-a-service.ts → services/gateway/src/app.ts',

  'cli-imports-no-service: packages/cli/src/runs-the-gateway.ts → services/gateway/src/app.ts',

  'shared-imports-nothing-of-ours: packages/shared/src/leans-on-sts.ts → packages/sts/src/index.ts',
  'shared-imports-nothing-of-ours: packages/shared/src/ships-testkit.ts → packages/testkit/src/index.ts',
  'no-test-code-in-production: packages/shared/src/ships-testkit.ts → packages/testkit/src/index.ts',
  'shared-tests-import-only-testkit: packages/shared/src/reaches-out.test.ts → packages/sts/src/index.ts',

  'no-test-code-in-production: services/gateway/src/ships-test-packages.ts → packages/testkit/src/index.ts',
  'no-test-code-in-production: services/gateway/src/ships-test-packages.ts → packages/sts-simulator/src/index.ts',
  'no-test-support-in-production: services/gateway/src/ships-harness.ts → services/gateway/test-support/harness.ts',

  'use-entry-points: services/gateway/src/reaches-into-sts.test.ts → packages/sts/src/index.ts',
  'use-entry-points: services/gateway/src/reaches-into-simulator-support.test.ts → packages/sts-simulator/test-support/index.ts',
  'use-entry-points: tests/reaches-in.test.ts → packages/sts/src/index.ts',

  'imports-resolve: tests/unexported-path.test.ts → @sts/sts/src/index.ts',
];

function violations(result: ICruiseResult): string[] {
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

async function cruiseTree(baseDir: string): Promise<ICruiseResult> {
  const options: ICruiseOptions = { ...(await extractDepcruiseOptions(CONFIG)), baseDir };
  const { output } = await cruise(['.'], options);
  if (typeof output === 'string') throw new Error('expected a cruise result, not a report');
  return output;
}

describe('part boundaries', () => {
  let fixture: string;
  let result: ICruiseResult;

  beforeAll(async () => {
    fixture = realpathSync(mkdtempSync(path.join(tmpdir(), 'sts-boundaries-')));
    for (const [dir, [name, exports]] of Object.entries(PACKAGES)) {
      mkdirSync(path.join(fixture, dir), { recursive: true });
      writeFileSync(
        path.join(fixture, dir, 'package.json'),
        JSON.stringify({ name, type: 'module', exports }),
      );
      mkdirSync(path.join(fixture, 'node_modules/@sts'), { recursive: true });
      symlinkSync(path.join(fixture, dir), path.join(fixture, 'node_modules', name), 'dir');
    }
    for (const [file, imports] of Object.entries(FILES)) {
      mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
      const body = imports.map((specifier) => `import '${specifier}';\n`).join('');
      writeFileSync(path.join(fixture, file), `${body}export const here = ${JSON.stringify(file)};\n`);
    }
    result = await cruiseTree(fixture);
  });
  afterAll(() => {
    if (fixture) rmSync(fixture, { recursive: true, force: true });
  });

  it('cruises every fixture file', () => {
    expect(result.modules.map((m) => m.source).filter((s) => !s.startsWith('node_modules/'))).toEqual(
      expect.arrayContaining(Object.keys(FILES)),
    );
  });

  it('reports each forbidden import under the rule it breaks, and nothing else', () => {
    expect(violations(result)).toEqual([...EXPECTED].sort());
  });

  it('names the rule in the report `pnpm run boundaries` prints', async () => {
    const { output } = await format(result, { outputType: 'err' });
    expect(output).toContain(
      'error no-service-imports-another-service: services/gateway/src/calls-credentials.ts → services/credentials/src/app.ts',
    );
    expect(output).toContain(`x ${EXPECTED.length} dependency violations (${EXPECTED.length} errors`);
  });

  it('finds no violation in the real tree', async () => {
    const real = await cruiseTree(ROOT);
    expect(real.summary.totalCruised).toBeGreaterThan(100);
    expect(violations(real)).toEqual([]);
  });
});
