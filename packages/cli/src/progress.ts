import cliProgress from 'cli-progress';

/** The bar of an import: events sent. */
export const IMPORT_FORMAT = ' {bar} {percentage}% | {value}/{total} | {eta_formatted} left';
/** The bar of a wait: documents final, with what they became. */
export const WAIT_FORMAT =
  ' {bar} {percentage}% | {value}/{total} final | {accepted} accepted, {warnings} with warnings, {rejected} rejected | {duration_formatted}';

type Payload = Record<string, string | number>;

/** A progress bar on stderr, only on a terminal (and never with --json); otherwise nothing. */
export function createProgress(enabled: boolean, format = IMPORT_FORMAT) {
  if (!enabled)
    return {
      start: (_total: number, _done: number, _payload?: Payload) => {},
      update: (_done: number, _payload?: Payload) => {},
      stop: () => {},
    };
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total: number, done: number, payload?: Payload) {
      bar.start(total, done, payload);
      started = true;
    },
    update(done: number, payload?: Payload) {
      if (started) bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
