// The suites' port helpers are the harness's own.
export { freePort, listenOnFreePort, waitForPort } from '../../testing/harness/ports';
