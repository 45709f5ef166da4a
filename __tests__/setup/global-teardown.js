const fs = require('fs');

// Removes this run's temp directory (made by global-setup.js), with whatever a failed suite left in it.
module.exports = async () => {
  const runDir = process.env.SOVEREIGN_TEST_RUN_DIR;
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
};
