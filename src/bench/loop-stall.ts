// The longest event-loop stall, seen by a 1 ms interval timer: the longest gap between
// two firings (or between the last firing and stop(), if the timer starved).

export interface StallMonitor {
  /** Stops the timer and returns the longest gap in ms. */
  stop(): number;
}

export function monitorStalls(): StallMonitor {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}
