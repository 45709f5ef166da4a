import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { IDENTITY_FILE, IDENTITY_SCRIPT } from '../../lib/hetzner/private/machine-identity';
import { MACHINE_PYTHON } from '../setup/real-parts';

// At a new server's first boot, time sync may step the clock by hours (a host clock that drifted, a snapshot's
// boot). The identity check waits for Hetzner's metadata service; a wait measured on the wall clock ended at
// the first step forward, so every job of the machine was skipped as if the server's id were unknown.
// The step is injected into the script's own clock (time.time), the one a step moves; the monotonic clock is the
// machine's own.
const STEPPED_CLOCK = `
import runpy, sys, time
real, calls = time.time, [0]
def stepped():
    calls[0] += 1
    return real() + (0 if calls[0] == 1 else 3600)
time.time = stepped
script = sys.argv[1]
sys.argv = [script, "check"]
runpy.run_path(script, run_name="__main__")
`;

describe('the machine identity check across a clock step', () => {
  let root: string;
  let server: http.Server;
  let requests = 0;
  let url: string;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-clock-'));
    fs.mkdirSync(path.join(root, path.dirname(IDENTITY_FILE)), { recursive: true });
    fs.writeFileSync(path.join(root, IDENTITY_FILE), 'SERVER_ID=4711\n');
    fs.writeFileSync(path.join(root, 'sovereign-identity'), IDENTITY_SCRIPT, { mode: 0o755 });
    // A metadata service that is not ready yet, as at first boot: every answer is an error.
    server = http.createServer((_req, res) => { requests += 1; res.writeHead(503); res.end(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hetzner/v1/metadata/instance-id`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('a step forward of the wall clock does not cut the wait for the metadata service short', async () => {
    const run = spawn(MACHINE_PYTHON, ['-I', '-S', '-c', STEPPED_CLOCK, path.join(root, 'sovereign-identity')], {
      env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, SOVEREIGN_METADATA_URL: url, SOVEREIGN_IDENTITY_WAIT: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    run.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
    expect(stderr).toContain('the metadata service did not give this server\'s id: skipping');
    expect(code).toBe(1);
    // One try a second for the whole wait (3 s): before, the stepped clock ended it after the first try.
    expect(requests).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
