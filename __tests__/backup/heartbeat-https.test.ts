import * as fs from 'fs';
import { EXAMPLES } from '../../examples';
import { HetznerStandIn } from '../../testing';
import { synthExample } from '../examples/synth-examples';
import { sentinelVariables } from '../setup/secret-sentinels';

// Audit (secrets): the backup jobs and the restore drill took any ping URL. Over http:// the ping key, and
// each failure ping's log tail, crossed the network in clear text (the egress allowlist opens port 80 to
// the ping host as it opens 443), while the monitoring already refused webhook URLs that are not https://.

const KEY = 'Zq7pingKeySecret-4b1d';

describe('a heartbeat URL that is not https://, or carries a user name, fails the plan without printing it', () => {
  const { outdir, stacks } = synthExample(EXAMPLES['phase1-pilot']);
  const standIn = HetznerStandIn.shared();
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test.each([
    ['phase1-pilot-production', 'backup_heartbeat_url', 'the backup heartbeat'],
    ['phase1-pilot-test', 'restore_drill_heartbeat_url', 'the restore drill heartbeat'],
  ])('%s: TF_VAR_%s', (stack, variable, what) => {
    const json = stacks[stack];
    const ws = standIn.workspace(json);
    const secrets = { ...sentinelVariables(json), TF_VAR_production_backup_host: 'u1.your-storagebox.de', TF_VAR_production_backup_username: 'u1-sub2' };
    ws.setVariables({ ...secrets, [`TF_VAR_${variable}`]: `https://hc-ping.com/${KEY}` }).setConfiguration(json);
    expect(ws.plan().run.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);

    // Clear text; a user name the allowlist would take for the host.
    for (const bad of [`http://hc-ping.com/${KEY}`, `https://ops:${KEY}@hc-ping.com/ping`]) {
      ws.setVariables({ [`TF_VAR_${variable}`]: bad });
      const { run } = ws.plan();
      expect(run.ok).toBe(false);
      expect(run.diagnostics.map((d) => `${d.summary}: ${d.detail}`)).toEqual([
        `Resource precondition failed: The ping URL of ${what} (TF_VAR_${variable}) must be https://<host>/…, with no user name or password: over http:// `
        + 'its ping key would cross the network in clear text. Set it to the https:// URL the ping service gives, such as https://hc-ping.com/<ping-key>.',
      ]);
      expect(run.stdout + run.stderr).not.toContain(KEY);
    }
  }, 240_000);
});
