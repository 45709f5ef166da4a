import * as fs from 'fs';

/**
 * Preloaded (`node -r`) into a CLI that a test runs in a real terminal: the CLI's clock (performance.now) reads the
 * milliseconds the test last wrote to the file named by CLOCK_FILE. The test moves it before it writes each keystroke,
 * so that how soon one came after another is what the test says, however slow the machine is.
 */
const file = process.env.CLOCK_FILE;
if (file !== undefined) performance.now = () => Number(fs.readFileSync(file, 'utf8'));
