/** A server a test starts, which it stops when done. */
export interface StoppableServer {
  stop(): unknown;
}

/**
 * Starts servers side by side and resolves with all of them. When one fails to start, those that did start are
 * stopped before the failure is thrown: otherwise a suite whose PostgreSQL could not start left its sshd (a process of
 * its own) running past jest's exit, one per failed suite.
 */
export async function startTogether<T extends readonly (StoppableServer | undefined)[]>(
  starts: { readonly [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<StoppableServer | undefined>[]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<StoppableServer | undefined>).value) as unknown as T;
  // A stop that throws (the server already gone) must not hide why the start failed.
  await Promise.allSettled(settled.map(async (r) => { if (r.status === 'fulfilled') await r.value?.stop(); }));
  throw failed.reason;
}
