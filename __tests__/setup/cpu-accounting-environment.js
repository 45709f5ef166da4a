const fs = require('fs');
const { TestEnvironment } = require('jest-environment-node');
// The harness's /proc reader, in TypeScript: jest transforms what a test environment requires while it loads it, as it
// does a test file's imports (@jest/transform's requireAndTranspileModule). At the top, not in a method: that transform
// hook is there only while the environment loads, and a later require of a .ts file fails with "Cannot find module".
const { statFields } = require('../../testing/harness/processes');

/**
 * jest's node environment, which also appends what each test file cost the CPU to the file JEST_CPU_LOG names
 * (scripts/slowest-tests.js sets it): the worker's own time from loading the file to its teardown, and the
 * time of the processes it started and waited for. Daemons that detach (pg_ctl's PostgreSQL, sshd) are
 * not counted: they are no longer the worker's children when they end.
 */
class CpuAccountingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.cpuLog = process.env.JEST_CPU_LOG;
    this.testPath = context.testPath;
    if (this.cpuLog) this.start = cpuNow();
  }

  async teardown() {
    await super.teardown();
    if (!this.start) return;
    const end = cpuNow();
    fs.appendFileSync(this.cpuLog, `${JSON.stringify({
      file: this.testPath,
      worker: round(end.worker - this.start.worker),
      children: round(end.children - this.start.children),
    })}\n`);
  }
}

/** CPU seconds so far: this process's, and its waited-for children's (Linux's /proc; 0 elsewhere). */
function cpuNow() {
  const { user, system } = process.cpuUsage();
  // From the state (field 3) on: cutime and cstime are fields 16 and 17. None without a /proc (not Linux).
  const fields = statFields('self');
  const children = fields ? (Number(fields[13]) + Number(fields[14])) / 100 : 0; // USER_HZ is 100 on every Linux jest runs on
  return { worker: (user + system) / 1e6, children };
}

const round = (seconds) => Math.round(seconds * 100) / 100;

module.exports = CpuAccountingEnvironment;
