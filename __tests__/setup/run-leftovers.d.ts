/**
 * Ends the processes (naming each on stderr), unmounts the mounts and detaches the loop devices under a run's temp
 * directory, and removes the network namespaces its suites recorded (global-teardown.js, the run limit, a signal).
 */
export function endLeftovers(runDir: string): void;
/** The processes whose command line names a file under `dir`, or whose working directory is there. */
export function processesIn(dir: string): number[];
/** The processes of the account `uid` whose working directory is `dir` or under it, found without reading a command line. */
export function processesWorkingIn(dir: string, uid: number): number[];
/** The processes whose parent is `pid`. */
export function childrenOf(pid: number): number[];
/**
 * Ends jest's workers (in a run in band, the processes its tests started) and what they started outside the run's temp
 * directory (naming each); continues those in it.
 */
export function endWorkers(runDir: string): void;
/** jest's worker processes among the children of `pid` (jest's main process). */
export function workersOf(pid: number): number[];
/**
 * jest's workers among the children of `pid` (jest's main process), and every process carrying `runDir` in its environment
 * (orphans adopted by init or a subreaper included), neither this process nor `pid`.
 */
export function startedForRun(pid: number, runDir: string): number[];
/** SIGKILL to each of `pids`, ignoring those already gone (no ESRCH from a finally block). */
export function killAll(pids: readonly number[]): void;
/** A process's line for stderr, naming what is ended: `  <pid> <command line>` and a newline. */
export function described(pid: number): string;
/** The file in a run's directory naming its jest process's pid. */
export const RUN_PID_FILE: string;
/** Records an OS account the run made, for the run's end to remove (`userdel`). */
export function recordAccountMade(name: string): void;
/** Records a named network namespace a suite made, for the run's end to remove if the suite does not. */
export function recordNetworkNamespace(name: string): void;
/** Forgets a recorded namespace its suite removed, which the run's end must then leave alone. */
export function forgetNetworkNamespace(name: string): void;
/** The namespaces recorded and not forgotten in a run's directory and in those of the runs nested in it. */
export function recordedNetworkNamespaces(runDir: string): string[];
/** Makes a 0700 directory outside the run's temp directory (under /var/tmp), the maker's pid in its name. */
export function makeOutsideRunDirectory(purpose: string, parent?: string): string;
/**
 * Removes the directories makeOutsideRunDirectory made whose maker is no longer alive (a real directory, this account's,
 * mode 0700; any other is kept); returns them.
 */
export function removeAbandonedOutsideRunDirectories(parent?: string): string[];
