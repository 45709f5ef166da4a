import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Environment, Phase, Product, ProductProps, StagingMode } from '../../lib';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { synthesizedBundle } from '../../testing/bundle';
import { startLoopbackSshd, stopSshd } from '../../testing/harness/sshd';
import { startSshAgent } from '../../testing/harness/ssh-agent';
import { policy } from '../boundary/fixtures';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { resourcesOf, synthJson, warningsOf } from '../setup/stack';
import { admin, backup, monitoring } from '../setup/product-basics';

// Each environment's machines accept that environment's admin keys only: the key test's CI job holds
// (test's ADMIN_SSH_KEY) is not root on production.

const OPS = admin.sshPublicKeys.ops;
const TEST_CI = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOwC8Enn1nj2Uma3y5GuYBZobXvBXy/TTHctjgN8ePU ci@acme-test';
const PRODUCTION_CI = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ci@acme-production';

const product = (overrides: Partial<ProductProps> = {}) => new Product({
  name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides,
});
const separate = (overrides: Partial<ProductProps> = {}) => product({
  admin: { ...admin, sshPublicKeys: { ops: OPS, ci: TEST_CI }, environmentSshPublicKeys: { production: { ops: OPS, ci: PRODUCTION_CI } } }, ...overrides,
});
/** The registered keys as [name, public key], by name. */
const registered = (json: any) => resourcesOf(json, 'hcloud_ssh_key').map((k) => [k.name, k.public_key]).sort();
/** Root's authorized_keys on the stack's app server, from its synthesized JSON (synthesized here when not given). */
const authorizedKeys = (stack: EnvironmentStack, json: any = synthJson(stack)) => synthesizedBundle(json, `acme-${stack.environment.name}-app`)
  .files.get('/root/.ssh/authorized_keys')!.content!.split('\n').filter((l) => l && !l.startsWith('#'));

describe("an environment's own admin keys", () => {
  test("test's stack never carries production's own keys: not registered, not on its servers, not in root's authorized_keys", () => {
    const stacks = new ProductStacks(Testing.app(), separate());
    const test = synthJson(stacks.test);
    expect(JSON.stringify(test)).not.toContain(PRODUCTION_CI.split(' ')[1]);
    expect(registered(test)).toEqual([['acme-test-ci', TEST_CI], ['acme-test-ops', OPS]]);
    expect(authorizedKeys(stacks.test, test)).toEqual([OPS, TEST_CI]);

    const production = synthJson(stacks.production);
    expect(JSON.stringify(production)).not.toContain(TEST_CI.split(' ')[1]);
    expect(registered(production)).toEqual([['acme-production-ci', PRODUCTION_CI], ['acme-production-ops', OPS]]);
    expect(authorizedKeys(stacks.production, production)).toEqual([OPS, PRODUCTION_CI]);
    // The server is created with the keys of its own stack.
    const [server] = resourcesOf(production, 'hcloud_server');
    const keyOf = (reference: string) => production.resource.hcloud_ssh_key[/^\$\{hcloud_ssh_key\.(.+)\.id\}$/.exec(reference)![1]].public_key;
    expect(server.ssh_keys.map(keyOf)).toEqual([OPS, PRODUCTION_CI]);
  });

  test("test's own keys stay off production, and production's stack is then the same as with shared keys", () => {
    const shared = new ProductStacks(Testing.app(), product());
    const ownTest = new ProductStacks(Testing.app(), product({ admin: { ...admin, environmentSshPublicKeys: { test: { ops: OPS, ci: TEST_CI } } } }));
    expect(authorizedKeys(ownTest.test)).toEqual([OPS, TEST_CI]);
    const production = synthJson(ownTest.production);
    expect(JSON.stringify(production)).not.toContain(TEST_CI.split(' ')[1]);
    expect(production).toEqual(synthJson(shared.production));
  });

  test("staging built from production's snapshot uses production's registered keys by name, not test's", () => {
    const stacks = new ProductStacks(Testing.app(), separate({ staging: StagingMode.fromProductionSnapshot() }), { stagingExpiresAt: '2026-12-31' });
    const staging = synthJson(stacks.staging!);
    // Hetzner allows a key once per project: staging registers none, and names production's.
    expect(resourcesOf(staging, 'hcloud_ssh_key')).toEqual([]);
    expect(resourcesOf(staging, 'hcloud_server')[0].ssh_keys).toEqual(['acme-production-ops', 'acme-production-ci']);
    expect(authorizedKeys(stacks.staging!, staging)).toEqual([OPS, PRODUCTION_CI]);
    expect(JSON.stringify(staging)).not.toContain(TEST_CI.split(' ')[1]);
  });

  test('Product.sshPublicKeysFor names each environment\'s keys; staging follows production', () => {
    const p = separate();
    expect(p.sshPublicKeysFor(Environment.TEST)).toEqual({ ops: OPS, ci: TEST_CI });
    expect(p.sshPublicKeysFor(Environment.PRODUCTION)).toEqual({ ops: OPS, ci: PRODUCTION_CI });
    expect(p.sshPublicKeysFor(Environment.STAGING)).toEqual({ ops: OPS, ci: PRODUCTION_CI });
    expect(product().sshPublicKeysFor(Environment.PRODUCTION)).toEqual(admin.sshPublicKeys);
  });

  test('refuses, for JavaScript callers, a staging entry, a misspelt environment, an empty list and a non-object, naming the fix', () => {
    const own = (environmentSshPublicKeys: unknown) => () => product({ admin: { ...admin, environmentSshPublicKeys } as never });
    expect(own({ staging: { ops: OPS } })).toThrow(/Product\(acme\)\.admin\.environmentSshPublicKeys\.staging: 'staging' is not allowed: staging uses production's keys.*Fix: remove it, and give production the keys staging needs/);
    expect(own({ prodution: { ci: PRODUCTION_CI } })).toThrow(/Product\(acme\)\.admin\.environmentSshPublicKeys\.prodution: .*Fix: did you mean 'production'\?/);
    expect(own({ production: {} })).toThrow(/Product\(acme\)\.admin\.environmentSshPublicKeys\.production: \{\} is not allowed: production's machines would accept no admin key\. Fix: list production's keys, or leave production out/);
    expect(own({ production: { ci: 42 } })).toThrow(/Product\(acme\)\.admin\.environmentSshPublicKeys\.production\.ci: 42 is not allowed: it is a number, not a text value/);
    expect(own('ssh-ed25519 AAAA')).toThrow(/Product\(acme\)\.admin\.environmentSshPublicKeys: .* is not allowed: it is an object of keys by environment\. Fix: pass \{ production:/);
  });
});

describe('Environment-SharedAdminKey', () => {
  const shared = (p: Product) => {
    const stacks = new ProductStacks(Testing.app(), p);
    return [...warningsOf(stacks.test), ...warningsOf(stacks.production)].filter((w) => w.startsWith('Environment-SharedAdminKey'));
  };

  test("warns once, on production, when every key that opens test opens production too, with the fix", () => {
    const warnings = shared(product());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Environment-SharedAdminKey: acme-production: every admin key of test \(ops\) also opens production, so test's deploy key .* is root on production\. Fix: give production keys of its own, admin: \{ environmentSshPublicKeys: \{ production: /);
    // The same key material under another name or comment is the same key.
    expect(shared(product({ admin: { ...admin, environmentSshPublicKeys: { production: { ops: OPS, ci: PRODUCTION_CI }, test: { alice: `${OPS.split(' ').slice(0, 2).join(' ')} alice@laptop` } } } })))
      .toHaveLength(1);
  });

  test("is quiet once test has a key of its own, even when a person's key opens both", () => {
    expect(shared(separate())).toEqual([]);
    expect(shared(product({ admin: { ...admin, environmentSshPublicKeys: { test: { ci: TEST_CI } } } }))).toEqual([]);
  });
});

const describeAsRoot = describeWithRealParts(isRoot, 'the admin-key login suite', 'root (sshd)');

describeAsRoot("a deploy's SSH connection, with the agent of one environment's CI job", () => {
  let tmp: string;
  const keys: Record<string, string> = {};
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-keys-'));
    for (const name of ['test-ci', 'production-ci']) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path.join(tmp, name)]);
      keys[name] = fs.readFileSync(path.join(tmp, `${name}.pub`), 'utf8').trim();
    }
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Logs in as root, as the rollout's connection does (user root, keys from SSH_AUTH_SOCK), with an agent holding `key` alone. */
  async function logsIn(authorized: readonly string[], key: string): Promise<boolean> {
    const dir = fs.mkdtempSync(path.join(tmp, 'machine-'));
    fs.writeFileSync(path.join(dir, 'authorized_keys'), `${authorized.join('\n')}\n`, { mode: 0o600 });
    const sshd = await startLoopbackSshd(dir, []);
    const agent = startSshAgent(path.join(dir, 'agent.sock'));
    try {
      const env = { ...process.env, SSH_AUTH_SOCK: agent.socket };
      agent.add(path.join(tmp, key));
      fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
      const ssh = spawnSync('ssh', ['-F', '/dev/null', '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, 'root@127.0.0.1', 'true'], { encoding: 'utf8', env });
      return ssh.status === 0;
    } finally {
      agent.stop();
      await stopSshd(sshd.child);
    }
  }

  test("reaches its own environment's machine, and never production's with test's key", async () => {
    const stacks = new ProductStacks(Testing.app(), product({
      admin: { ...admin, sshPublicKeys: { ci: keys['test-ci'] }, environmentSshPublicKeys: { production: { ci: keys['production-ci'] } } },
    }));
    const [test, production] = [authorizedKeys(stacks.test), authorizedKeys(stacks.production)];
    expect(await logsIn(test, 'test-ci')).toBe(true);
    expect(await logsIn(production, 'production-ci')).toBe(true);
    expect(await logsIn(production, 'test-ci')).toBe(false);
    expect(await logsIn(test, 'production-ci')).toBe(false);
  });
});
