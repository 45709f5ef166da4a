const fs = require('fs');
const { endLeftovers } = require('./run-leftovers');

// Removes this run's temp directory (made by global-setup.js), with whatever a failed suite left in it: the
// processes, mounts, loop devices and recorded network namespaces first (run-leftovers.js), then the files.
module.exports = async () => {
  const runDir = process.env.SOVEREIGN_TEST_RUN_DIR;
  if (!runDir) return;
  endLeftovers(runDir);
  fs.rmSync(runDir, { recursive: true, force: true });
};
