/** Draws one step of a long run: `done` of the total so far, and whether that step went wrong. */
export type Progress = (done: number, failed?: boolean) => void;

/**
 * A progress bar for `total` steps on standard error, `label` first, redrawn at most every 100 ms
 * and ended with a newline at the last step; nothing at all when standard error is not a terminal,
 * so that a redirected run stays plain text.
 */
export function progressBar(total: number, label: string): Progress {
  if (!process.stderr.isTTY) return () => {};
  let failures = 0;
  let drawn = 0;
  return (done, failed = false) => {
    if (failed) failures++;
    const now = performance.now();
    if (done < total && now - drawn < 100) return;
    drawn = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  failed ${failures}${done === total ? '\n' : ''}`);
  };
}
