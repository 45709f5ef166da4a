import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { javascriptEntry } from '../../testing/harness/transpile-cache';
import { HcloudApiStandIn } from '../environments/hcloud-api-stand-in';
import { cliProcess, deployEnvironment, ownPasswdViewAvailable } from './cli';
import { testWhereHostHas } from '../setup/real-parts';

const STACK = 'phase1-pilot-staging';

/**
 * `cdktf deploy` and `cdktf destroy` of the staging stack, against the Hetzner API stand-in: the server carries the
 * labels the stack sets. A deploy waits until the other release has claimed (or checked) staging, or has ended: two
 * releases started at once both get past that step before either brings staging up. A second deploy of a stack that
 * is up fails, as Terraform's state lock makes it (and the release then runs its take-down).
 */
const CLOUD_SCRIPT = `
const fs = require('fs');
const [, , verb, stack] = process.argv;
const { HCLOUD_ENDPOINT: api, HCLOUD_TOKEN: token, RELEASE_TAG: tag, OTHER_TAG: other, RACE_DIR: dir, STAGING_EXPIRES_AT: expiresAt } = process.env;
const log = (line) => fs.appendFileSync(dir + '/events.log', line + ' ' + tag + '\\n');
const call = async (method, path, body) => {
  const res = await fetch(api + path, { method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await res.text();
  return text ? JSON.parse(text) : {};
};
const servers = async () => (await call('GET', '/servers?per_page=50&label_selector=stack%3D' + stack)).servers;
(async () => {
  if (verb === 'up') {
    // No cap: on a loaded machine the other release's start can take any time; the test's timeout bounds the wait.
    while (!fs.existsSync(dir + '/checked-' + other) && !fs.existsSync(dir + '/exited-' + other)) await new Promise((r) => setTimeout(r, 50));
    if ((await servers()).length > 0) { log('deploy-refused'); process.exit(1); }
    await call('POST', '/servers', { name: stack + '-app', labels: { environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': expiresAt, stack } });
    log('up');
  } else {
    for (const server of await servers()) await call('DELETE', '/servers/' + server.id);
    log('down');
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

// Audit (release): two releases started at once both passed `staging list --none-up` (neither had brought staging up
// yet). The second's deploy then failed on the first's staging, and its take-down destroyed the first's staging under
// the first's rehearsal. Now one claims staging (a name Hetzner takes once), and the other is refused before it
// touches staging; the winner's staging stays up until its own take-down.
describe('two releases started at once, against the Hetzner API stand-in', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-race-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let api: HcloudApiStandIn;
  let endpoint: string;
  beforeAll(async () => {
    api = new HcloudApiStandIn({ servers: [], load_balancers: [], volumes: [], primary_ips: [], floating_ips: [], firewalls: [], networks: [], ssh_keys: [], placement_groups: [] }, 'stand-in-hcloud-token');
    endpoint = await api.start();
  });
  afterAll(() => api.stop());

  function release(outdir: string, bin: string, tag: 'A' | 'B'): Promise<{ tag: string; code: number | null; stderr: string }> {
    // With an empty home of its own, whatever the build machine's ~/.ssh holds.
    const [program, ...args] = cliProcess(dir, ['release', '--product', 'phase1-pilot', '--out', outdir,
      '--rehearse', `echo "rehearse-start $RELEASE_TAG" >> ${dir}/events.log; sleep 1.5; echo "rehearse-end $RELEASE_TAG" >> ${dir}/events.log`,
      '--now', '2026-11-25T09:00:00Z']);
    const child = spawn(program, args, {
      env: { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}`, HCLOUD_ENDPOINT: endpoint, RELEASE_TAG: tag, OTHER_TAG: tag === 'A' ? 'B' : 'A', RACE_DIR: dir },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    return new Promise((resolve) => child.on('close', (code) => {
      fs.writeFileSync(path.join(dir, `exited-${tag}`), '');
      resolve({ tag, code, stderr });
    }));
  }

  // Review (release rehearsal, fifth pass, revu 6): without a view of its own, the build machine's ~/.ssh decided the outcome.
  const concurrent = "one release holds staging; the other is refused before it touches staging, and never takes the winner's down";
  testWhereHostHas(ownPasswdViewAvailable(), concurrent, 'root or nested user namespaces (a password database of the test\'s own)')(concurrent, async () => {
    const outdir = path.join(dir, 'cdktf.out');
    const app = new App({ outdir });
    phase1Pilot(app);
    app.synth();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const cloud = path.join(dir, 'cloud.js');
    fs.writeFileSync(cloud, CLOUD_SCRIPT);
    // The release's own staging commands run for real; guard, the snapshot and the other deploys do nothing.
    fs.writeFileSync(path.join(bin, 'npx'), [
      '#!/bin/sh',
      'case "$1 $2" in',
      `  "cdktf-sovereign-hetzner staging") shift; "${process.execPath}" "${javascriptEntry(path.resolve(__dirname, '../../cli/main'))}" "$@"; s=$?; touch "${dir}/checked-$RELEASE_TAG"; exit $s;;`,
      '  "cdktf-sovereign-hetzner snapshot") echo 4242;;',
      `  "cdktf deploy"|"cdktf destroy") case "$3" in ${STACK}) echo "$2 $3" >> "${dir}/calls-$RELEASE_TAG.log"; exec "${process.execPath}" "${cloud}" $([ "$2" = deploy ] && echo up || echo down) "$3";; esac;;`,
      'esac',
    ].join('\n') + '\n', { mode: 0o755 });

    const results = await Promise.all([release(outdir, bin, 'A'), release(outdir, bin, 'B')]);
    const events = fs.readFileSync(path.join(dir, 'events.log'), 'utf8').trim().split('\n');
    const winner = results.find((r) => r.code === 0);
    const loser = results.find((r) => r !== winner)!;
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    // The winner's staging stayed up from its bring-up through its rehearsal, until its own take-down.
    const up = events.indexOf(`up ${winner!.tag}`);
    expect(events.slice(up)).toEqual([`up ${winner!.tag}`, `rehearse-start ${winner!.tag}`, `rehearse-end ${winner!.tag}`, `down ${winner!.tag}`]);
    // The loser never brought staging up, nor took it down: it was refused at its claim, naming the winner's release.
    expect(fs.existsSync(path.join(dir, `calls-${loser.tag}.log`))).toBe(false);
    expect(loser.stderr).toMatch(new RegExp(`staging of ${STACK} is claimed by release \\d{8}-\\d{6}-[0-9a-f]{6} \\(expires-at 2026-11-28\\): .*Nothing was changed`));
    expect(loser.stderr).toMatch(/production was not deployed/);
    // Nothing is left: the staging server is down and the claim given up.
    expect(api.collections.servers).toEqual([]);
    expect(api.collections.placement_groups).toEqual([]);
  }, 60_000);
});
