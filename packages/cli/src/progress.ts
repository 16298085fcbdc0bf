import cliProgress from 'cli-progress';

/** A progress bar on stderr, only on a terminal (and never with --json); otherwise nothing. */
export function createProgress(enabled: boolean) {
  if (!enabled)
    return { start: (_total: number, _done: number) => {}, update: (_done: number) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {value}/{total} | {eta_formatted} left',
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total: number, done: number) {
      bar.start(total, done);
      started = true;
    },
    update(done: number) {
      if (started) bar.update(done);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
