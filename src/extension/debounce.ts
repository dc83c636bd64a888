/**
 * A call that runs `run` once, `ms` after the first call of a burst. Later calls in the burst
 * join the pending run instead of pushing it back, so a steady stream of model changes (a flood
 * of processes) still updates the view every `ms` rather than never. No vscode import.
 */
export interface Debounced {
  (): void;
  /** Cancel the pending run, if any. */
  dispose(): void;
}

export function debounce(run: () => void, ms: number): Debounced {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      run();
    }, ms);
  };
  return Object.assign(schedule, {
    dispose: () => {
      clearTimeout(timer);
      timer = undefined;
    },
  });
}
