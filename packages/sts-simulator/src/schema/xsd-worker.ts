import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * One validation thread: libxml2's xmllint compiled to WebAssembly (npm `xmllint-wasm`). The package's
 * own `validateXML` starts a new thread and compiles the module for every call (~50 ms); here the
 * module is compiled once and only instantiated per validation (~3 ms), which keeps the simulator out
 * of the way of benchmarks.
 */

export interface SchemaBundle {
  /** File name of the schema to validate against; the others are what it imports. */
  main: string;
  files: { fileName: string; contents: string }[];
}

export interface ValidationRequest {
  id: number;
  bundle: string;
  xml: string;
}

export interface ValidationReply {
  id: number;
  valid?: boolean;
  /** This message's lines of xmllint's report, without the file name: `:6: Schemas validity error : …`. */
  lines?: string[];
  error?: string;
}

type ModuleFactory = (options: Record<string, unknown>) => Promise<unknown>;

/** The slice of the WebAssembly API used here (the project's `lib` has no DOM/WebAssembly typings). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => object;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const require = createRequire(import.meta.url);
const packageDir = path.dirname(require.resolve('xmllint-wasm'));
// The file also installs its own message listener for the package's protocol; it ignores ours.
const createModule = require(path.join(packageDir, 'xmllint-node.js')) as ModuleFactory;
const compiled = new wasm.Module(readFileSync(path.join(packageDir, 'xmllint.wasm')));
const bundles = (workerData as { bundles: Record<string, SchemaBundle> }).bundles;

const WASM_PAGE = 65_536;
const MAX_PAGES = 16_384;
/** Messages validated in one xmllint run at most (the schema is compiled once per run). */
const MAX_BATCH = 64;
/** Bytes of XML in one run at most, so one big file does not share a run with many others. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface RunResult {
  exitCode: number | undefined;
  stderr: string;
  error?: string;
}

function runXmllint(bundle: SchemaBundle, messages: { fileName: string; xml: string }[]): Promise<RunResult> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const settle = (result: RunResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const totalLength = messages.reduce((sum, message) => sum + message.xml.length, 0);
    // Room for the biggest 730 file (5 MB zipped, some 30 MB of XML); pages are committed lazily.
    const initialPages = Math.min(MAX_PAGES, Math.max(256, Math.ceil((totalLength * 4) / WASM_PAGE)));
    try {
      createModule({
        inputFiles: [
          ...messages.map((message) => ({ fileName: message.fileName, contents: message.xml })),
          ...bundle.files,
        ],
        arguments: ['--schema', bundle.main, '--noout', ...messages.map((message) => message.fileName)],
        print: () => {},
        printErr: (text: string) => {
          stderr += `${text}\n`;
        },
        onExit: (exitCode: number) => settle({ exitCode, stderr }),
        onAbort: (reason: unknown) =>
          settle({ exitCode: undefined, stderr, error: `xmllint aborted: ${String(reason)}` }),
        wasmMemory: new wasm.Memory({ initial: initialPages, maximum: MAX_PAGES }),
        instantiateWasm: (imports: object, done: (instance: object) => void): Record<string, never> => {
          void wasm.instantiate(compiled, imports).then(done);
          return {};
        },
      }).catch((error: unknown) => {
        // Emscripten ends main() by throwing ExitStatus after onExit has run.
        if ((error as { name?: string })?.name !== 'ExitStatus')
          settle({ exitCode: undefined, stderr, error: String(error) });
      });
    } catch (error) {
      if ((error as { name?: string })?.name !== 'ExitStatus')
        settle({ exitCode: undefined, stderr, error: String(error) });
    }
  });
}

const queue: ValidationRequest[] = [];
let running = false;

/** Runs everything queued for the oldest request's schema in one xmllint run, then the rest. */
async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length > 0) {
      const bundleName = queue[0]!.bundle;
      const batch: ValidationRequest[] = [];
      let bytes = 0;
      for (let i = 0; i < queue.length && batch.length < MAX_BATCH; ) {
        const request = queue[i]!;
        if (
          request.bundle === bundleName &&
          (batch.length === 0 || bytes + request.xml.length <= MAX_BATCH_BYTES)
        ) {
          batch.push(request);
          bytes += request.xml.length;
          queue.splice(i, 1);
        } else {
          i++;
        }
      }
      const bundle = bundles[bundleName];
      if (!bundle) {
        for (const request of batch) reply({ id: request.id, error: `unknown schema ${bundleName}` });
        continue;
      }
      const messages = batch.map((request, index) => ({ fileName: `m${index}.xml`, xml: request.xml }));
      const result = await runXmllint(bundle, messages);
      const unexpected =
        result.error ??
        (result.exitCode === 0 || result.exitCode === 3 || result.exitCode === 4
          ? undefined
          : `xmllint failed (exit ${result.exitCode}): ${result.stderr}`);
      batch.forEach((request, index) => {
        if (unexpected) {
          reply({ id: request.id, error: unexpected });
          return;
        }
        const prefix = `m${index}.xml`;
        const lines = result.stderr
          .split('\n')
          .filter((line) => line.startsWith(`${prefix}:`) || line === `${prefix} fails to validate`);
        reply({
          id: request.id,
          valid: lines.length === 0,
          lines: lines.map((line) => line.slice(prefix.length)),
        });
      });
    }
  } finally {
    running = false;
  }
}

function reply(message: ValidationReply): void {
  parentPort?.postMessage(message);
}

parentPort?.on('message', (message: unknown) => {
  const request = message as Partial<ValidationRequest>;
  if (
    typeof request?.id !== 'number' ||
    typeof request.xml !== 'string' ||
    typeof request.bundle !== 'string'
  )
    return;
  queue.push(request as ValidationRequest);
  // Let messages that arrived together join the same run.
  setImmediate(() => void drain());
});
