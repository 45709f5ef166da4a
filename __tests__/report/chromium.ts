import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run), never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium with a fresh profile and no network chatter of its own; close it with `close()`. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  const profile = path.join(root, 'profile');
  const tmp = path.join(root, 'tmp');
  fs.mkdirSync(profile);
  fs.mkdirSync(tmp);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    // Its own temporary directory (for its process-singleton socket), whatever the runner's TMPDIR.
    env: { ...process.env, TMPDIR: tmp },
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
