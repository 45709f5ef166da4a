/** cdktf's private helper that records a token's creation stack. */
export const CDKTF_STACK_TRACE_MODULE = 'cdktf/lib/tokens/private/stack-trace';

/**
 * cdktf records the full call stack of every token it creates (Lazy values, references, intrinsics), in
 * case an error message needs it later. Under jest, formatting such a stack goes through jest's
 * `Error.prepareStackTrace`, which maps every frame through source maps: on the synth-heavy suites that
 * was a fifth of the workers' CPU time, for stacks no test reads.
 *
 * This gives cdktf's `captureStackTrace` V8's own frame text instead, as outside jest (where `cdktf synth`
 * runs): the same frames in the same format, without the mapping, and formatted only when something reads
 * them. A stack jest prints for a failing test is still mapped. The helper is a private module:
 * plain-creation-stacks.test.ts fails when a release moves it.
 */
export function plainCreationStacks(): void {
  let helper: { captureStackTrace?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    helper = require(CDKTF_STACK_TRACE_MODULE);
  } catch {
    return;
  }
  if (typeof helper.captureStackTrace === 'function') helper.captureStackTrace = captureStackTrace;
}

const framesAsText = (_error: unknown, frames: NodeJS.CallSite[]): string[] => formattedOnRead(frames);

/**
 * The frames as text, formatted when first read. cdktf reads a creation stack only for an error message, and
 * formatting every frame of every token up front was a twentieth of the synth-heavy suites' CPU.
 */
function formattedOnRead(frames: NodeJS.CallSite[]): string[] {
  let text: string[] | undefined;
  const read = (): string[] => (text ??= frames.map(String));
  return new Proxy<string[]>([], {
    get: (_target, key) => {
      const value: unknown = Reflect.get(read(), key);
      return typeof value === 'function' ? value.bind(read()) : value;
    },
    set: (_target, key, value) => Reflect.set(read(), key, value),
    has: (_target, key) => Reflect.has(read(), key),
    ownKeys: () => Reflect.ownKeys(read()),
    getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(read(), key),
  });
}

/** The frames below `below` (this function when not given), outermost last, each as V8 prints it after "at ". */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function captureStackTrace(below?: Function): string[] {
  const holder: { stack?: unknown } = {};
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  try {
    Error.stackTraceLimit = Number.MAX_SAFE_INTEGER;
    Error.prepareStackTrace = framesAsText;
    Error.captureStackTrace(holder, below ?? captureStackTrace);
    return Array.isArray(holder.stack) ? holder.stack : [];
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}
