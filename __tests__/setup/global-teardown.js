const fs = require('fs');
const path = require('path');

// Removes this run's temp directory (see jest-setup.ts); the main process is the workers' parent.
module.exports = async () => {
  const root = path.resolve(__dirname, '..', '..', '.tmp');
  fs.rmSync(path.join(root, `run-${process.pid}`), { recursive: true, force: true });
  // With --runInBand the tests ran in this process itself, under its parent's id.
  fs.rmSync(path.join(root, `run-${process.ppid}`), { recursive: true, force: true });
  try { fs.rmdirSync(root); } catch { /* another run still uses it */ }
};
