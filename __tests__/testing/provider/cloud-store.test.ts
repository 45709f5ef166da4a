import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { javascriptEntry } from '../../../testing/harness/transpile-cache';
import { CloudStore } from '../../../testing/provider/cloud/store';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const STORE_JS = javascriptEntry(path.join(ROOT, 'testing', 'provider', 'cloud', 'store'));

/** A separate node process doing `count` read-modify-writes, as a second plugin process would. */
function writer(file: string, name: string, count: number): Promise<number> {
  const script = `
    const { CloudStore } = require(${JSON.stringify(STORE_JS)});
    const store = new CloudStore(${JSON.stringify(file)});
    for (let i = 0; i < ${count}; i++) {
      store.update((s) => {
        const id = s.nextId++;
        (s.objects.hcloud_ssh_key ??= {})[String(id)] = { id: String(id), name: ${JSON.stringify(name)} + '-' + i };
      });
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`writer ${name} exited ${code}: ${err}`))));
  });
}

describe('the simulated cloud file', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-store-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('two processes writing at the same time lose nothing', async () => {
    const file = path.join(dir, 'project.json');
    const perWriter = 150;
    await Promise.all([writer(file, 'a', perWriter), writer(file, 'b', perWriter)]);
    const state = new CloudStore(file).read();
    const keys = Object.values(state.objects.hcloud_ssh_key);
    expect(keys).toHaveLength(2 * perWriter);
    // Every ID handed out once, every write of both processes present.
    expect(new Set(keys.map((k) => k.id)).size).toBe(2 * perWriter);
    expect(state.nextId).toBe(10000001 + 2 * perWriter);
    for (const name of ['a', 'b']) expect(keys.filter((k) => String(k.name).startsWith(`${name}-`))).toHaveLength(perWriter);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['project.json']);
  }, 60_000);

  test('a lock left by a process that died is broken, a live one is respected', () => {
    const file = path.join(dir, 'project.json');
    const store = new CloudStore(file);
    // A PID that is not running: the highest possible one is free on any ordinary machine.
    fs.writeFileSync(store.lockFile, `4194303 ${Date.now()} crashed`);
    store.update((s) => { s.nextId = 42; });
    expect(store.read().nextId).toBe(42);
    expect(fs.existsSync(store.lockFile)).toBe(false);
  });

  test('an absent file is an empty project; a foreign file is refused with its name', () => {
    expect(new CloudStore(path.join(dir, 'none.json')).read().objects).toEqual({});
    fs.writeFileSync(path.join(dir, 'other.json'), '{"hello": 1}');
    expect(() => new CloudStore(path.join(dir, 'other.json')).read()).toThrow(/other\.json is not a stand-in cloud file/);
  });
});
