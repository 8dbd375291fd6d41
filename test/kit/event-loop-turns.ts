// Counts the event-loop turns (macrotasks) that ran while `work` was pending: 0 means the work never
// yielded the loop (a synchronous pass), n means other callbacks got n chances to run meanwhile.

export async function withTurnCount<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const value = await work();
    return { value, turns };
  } finally {
    ticking = false;
  }
}
