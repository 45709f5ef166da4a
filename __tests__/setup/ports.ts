// The suites' port helpers are the harness's own.
export { freePort, waitForPort } from '../../testing/harness/ports';
