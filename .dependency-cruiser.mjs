// The part boundaries of the monorepo, checked by dependency-cruiser (`pnpm run boundaries`, a step
// of `./run test`; tests/boundaries/boundaries.test.ts proves each rule fires). Paths are relative to the
// repository root; workspace packages (`@sts/*`) resolve through node_modules to their real folders,
// so `@sts/credentials` is seen as `services/credentials/src/app.ts`.

// Test code: test files, test support (outside `src/`, kept out of images by .dockerignore), the
// testkit package, whole-stack tests and the vitest setup. Everything else is production code.
const TEST_CODE = [
  '\\.test\\.ts$',
  '(^|/)test-support/',
  '^(packages|services)/[^/]+/test/',
  // Benchmark scripts measure the parts with test infrastructure; they are never in an image.
  '^(packages|services)/[^/]+/bench/',
  '^packages/testkit/',
  '^tests/',
  '^vitest\\.[^/]+\\.ts$',
];
const OURS = '^(packages|services|tests|infra)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-service-imports-another-service',
      comment:
        'A service never imports another service (neither `@sts/<service>` nor a path into services/<other>/): ' +
        'services talk over HTTP and Redis; what they share lives in packages/shared or packages/sts.',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'sts-imports-no-service-nor-simulator',
      comment:
        'packages/sts (the STS protocol) imports no service and not the simulator (`@sts/sts-simulator`): ' +
        'the simulator is built on packages/sts, not the other way round.',
      severity: 'error',
      from: { path: '^packages/sts/' },
      to: { path: '^(services/|packages/sts-simulator/)' },
    },
    {
      name: 'cli-imports-no-service',
      comment:
        "packages/cli (the `sts` command) is a client of the gateway's public HTTP API: it imports no service " +
        "(operator commands run the gateway's CLI as a child process) and not the simulator.",
      severity: 'error',
      from: { path: '^packages/cli/' },
      to: { path: '^(services/|packages/sts-simulator/)' },
    },
    {
      name: 'shared-imports-nothing-of-ours',
      comment:
        'packages/shared imports nothing of ours: no `@sts/*` and no path into another package, a service, ' +
        'tests/ or infra/. It is the bottom layer.',
      severity: 'error',
      from: { path: '^packages/shared/', pathNot: TEST_CODE },
      to: { path: OURS, pathNot: '^packages/shared/' },
    },
    {
      name: 'shared-tests-import-only-testkit',
      comment:
        "packages/shared's own tests may use `@sts/testkit`, and nothing else of ours (no `@sts/*` other than " +
        'the testkit, no path into another package or service).',
      severity: 'error',
      from: { path: ['^packages/shared/.+\\.test\\.ts$', '^packages/shared/(test-support|test)/'] },
      to: { path: OURS, pathNot: '^packages/(shared|testkit)/' },
    },
    {
      name: 'no-test-code-in-production',
      comment:
        'Production code (anything that is not a `*.test.ts` file or test support) never imports ' +
        '`@sts/testkit` or `@sts/sts-simulator`: they are for tests only. packages/demo, the local ' +
        "first-run demo, runs against the simulator by design and reads the kit's test users with it.",
      severity: 'error',
      from: { path: '^((?:packages|services)/[^/]+)/', pathNot: [...TEST_CODE, '^packages/demo/'] },
      to: { path: '^packages/(testkit|sts-simulator)/', pathNot: '^$1/' },
    },
    {
      name: 'no-test-support-in-production',
      comment:
        'Production code under src/ never imports test files or test support (test-support/, test/): ' +
        'images leave them out (.dockerignore), so such an import would break the running service.',
      severity: 'error',
      from: { path: '^(packages|services)/[^/]+/src/', pathNot: TEST_CODE },
      to: { path: ['\\.test\\.ts$', '(^|/)test-support/', '^(packages|services)/[^/]+/test/'] },
    },
    {
      name: 'use-entry-points',
      comment:
        'Code (tests included) reaches another package or service only through its public entry points - `@sts/<name>` ' +
        'and the subpath exports its package.json declares (e.g. `@sts/sts-simulator/testing`) - never by a ' +
        'relative path into its src/ or test-support/.',
      severity: 'error',
      // The first group is the part the importing file belongs to: `packages/<name>`, `services/<name>`,
      // or the top-level folder or file (`tests`, `infra`, `vitest.global-setup.ts`).
      from: { path: '^((?:packages|services)/[^/]+|[^/]+)' },
      to: { path: '^(packages|services)/', pathNot: '^$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'imports-resolve',
      comment:
        'Every import resolves: one the checker cannot follow would escape the rules above (for instance ' +
        '`@sts/sts/src/...`, a path the package does not export).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7.0 (the native compiler) has no parser API dependency-cruiser can use; swc parses the
    // `.ts` sources (type-only imports included, marked `type-only`).
    parser: 'swc',
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)node_modules/|^\\.(tools|data|git)/|^coverage/' },
    // Resolve like Node does for this repository: relative imports carry their `.ts` extension and
    // workspace packages (`@sts/*`, symlinked in node_modules) are entered through their `exports`.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.d.ts', '.mts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
