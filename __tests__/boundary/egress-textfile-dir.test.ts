import { applyEgressAllowlist } from './egress-host';
import { checkedStack, machine, policy } from './fixtures';

// The egress allowlist kept its own copy of node exporter's textfile directory: a change to the one shared constant
// (another distribution's directory, say) moved the checks' files and the alerts' reading, but left the refresh writing
// `sovereign_egress.prom`, and the agent removing it, in the old place. Here the shared constant moves: everything follows.
jest.mock('../../lib/monitoring/private/paths', () => ({
  ...jest.requireActual('../../lib/monitoring/private/paths'),
  TEXTFILE_DIR: '/srv/elsewhere/textfiles',
}));

test("the allowlist's refresh, its check and the files that go with the part read the one shared textfile directory", () => {
  const part = applyEgressAllowlist(machine(checkedStack(), 'App', {}, false), { policy });
  expect(part.runtimeFiles).toEqual([
    '/srv/elsewhere/textfiles/sovereign_egress.prom',
    '/srv/elsewhere/textfiles/sovereign_egress_check.prom',
    '/srv/elsewhere/textfiles/.sovereign_egress_check.repairs',
  ]);
  const scripts = part.files.filter((f) => f.path.startsWith('/usr/local/sbin/')).map((f) => f.content).join('\n');
  expect(scripts).not.toContain('/var/lib/prometheus/node-exporter');
  expect(scripts.match(/TEXTFILE_DIR=\$\{EGRESS_TEXTFILE_DIR:-([^}]*)\}/g)).toEqual(['TEXTFILE_DIR=${EGRESS_TEXTFILE_DIR:-/srv/elsewhere/textfiles}', 'TEXTFILE_DIR=${EGRESS_TEXTFILE_DIR:-/srv/elsewhere/textfiles}']);
});

// The same held for the monitoring's job hooks and the rollout agent's own metric, and for the examples in a part's
// errors: each spelled the directory out. They follow the moved constant here, and no source file spells it again.
test("the job hooks, the rollout agent and a part's error examples read the one shared textfile directory", () => {
  const { SETUP_SCRIPT, JOB_METRIC_SCRIPT } = require('../../lib/monitoring/private/scripts');
  const { ROLLOUT_AGENT } = require('../../lib/hetzner/private/rollout-agent');
  const { checkPartShape } = require('../../lib/hetzner/private/part-checks');
  expect(SETUP_SCRIPT).toContain('since = "%s/srv/elsewhere/textfiles/sovereign-job-%s-watched.prom" % (ROOT, unit)');
  expect(JOB_METRIC_SCRIPT).toContain('dir=${SOVEREIGN_ROOT:-}/srv/elsewhere/textfiles\n');
  expect(ROLLOUT_AGENT).toContain('TEXTFILE_DIR = ROOT + "/srv/elsewhere/textfiles"\n');
  expect(() => checkPartShape('production/App.bundle', 'bundle', { name: 'my-tool', runtimeFiles: [7] })).toThrow("'/srv/elsewhere/textfiles/my-tool.prom'");
  for (const text of [SETUP_SCRIPT, JOB_METRIC_SCRIPT, ROLLOUT_AGENT]) expect(text).not.toContain('/var/lib/prometheus/node-exporter');
});

test('no library source spells the textfile directory out but the shared constant', () => {
  const { readdirSync, readFileSync } = require('fs');
  const { join } = require('path');
  const root = join(__dirname, '../../lib');
  const copies = (readdirSync(root, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.startsWith('generated'))
    .filter((file) => file !== join('monitoring', 'private', 'paths.ts') && readFileSync(join(root, file), 'utf8').includes('prometheus/node-exporter'));
  expect(copies).toEqual([]);
});
