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
  expect(part.runtimeFiles).toEqual(['/srv/elsewhere/textfiles/sovereign_egress.prom', '/srv/elsewhere/textfiles/sovereign_egress_check.prom']);
  const scripts = part.files.filter((f) => f.path.startsWith('/usr/local/sbin/')).map((f) => f.content).join('\n');
  expect(scripts).not.toContain('/var/lib/prometheus/node-exporter');
  expect(scripts.match(/TEXTFILE_DIR=\$\{EGRESS_TEXTFILE_DIR:-([^}]*)\}/g)).toEqual(['TEXTFILE_DIR=${EGRESS_TEXTFILE_DIR:-/srv/elsewhere/textfiles}', 'TEXTFILE_DIR=${EGRESS_TEXTFILE_DIR:-/srv/elsewhere/textfiles}']);
});
