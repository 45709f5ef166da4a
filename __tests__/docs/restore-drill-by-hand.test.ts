import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { synthesizedBundle } from '../../testing/bundle';

// docs/backup.md, "A restore drill now, not on Monday", held to the test machine's bundle (the Phase 2 example). It
// said to run the drill after test's first deploy, when production may have pushed nothing yet (the drill then fails
// and alerts RestoreDrillFailed), and to read "Result: success" from `systemctl status`, which prints a Result only
// after a failure.

const ROOT = path.resolve(__dirname, '..', '..');
const HEADING = '### A restore drill now, not on Monday';

function section(): string {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'backup.md'), 'utf8');
  const start = text.indexOf(HEADING);
  expect(start).toBeGreaterThan(-1);
  const end = text.indexOf('\n#', start + HEADING.length);
  return text.slice(start, end === -1 ? undefined : end);
}

describe(`docs/backup.md, "${HEADING.slice(4)}"`, () => {
  const app = Testing.app({ stackTraces: false });
  const testStack = JSON.parse(Testing.synth(phase2PayingCustomers(app).test, true));
  const files = synthesizedBundle(testStack, 'phase2-paying-test-app').files;
  const text = section();

  test("runs it once production has pushed a backup: before, the drill's own refusal, which it quotes, fails it", () => {
    const script = files.get('/usr/local/sbin/restore-drill')?.content ?? '';
    const quoted = /`(there is no backup of) …`/.exec(text)?.[1];
    expect(quoted).toBeDefined();
    expect(script).toContain(`die "${quoted} `);
    expect(text.replace(/\s+/g, ' ')).toMatch(/to run it at once \(once production's first backup push has run, to prove the wiring/);
  });

  test("starts the drill's oneshot unit, and reads its result with systemctl show, which prints it on success too", () => {
    const unit = files.get('/etc/systemd/system/restore-drill.service')?.content ?? '';
    expect(unit).toMatch(/^Type=oneshot$/m);
    const commands = /```sh\n([\s\S]*?)```/.exec(text)![1].split('\n').filter((l) => l.trim() !== '');
    expect(commands[0]).toMatch(/^systemctl start restore-drill\.service\s+# waits until the drill ends \(a oneshot unit\)/);
    // `systemctl status` shows "(Result: …)" only after a failure; `show -p Result` prints Result=success too.
    expect(commands.filter((l) => /^systemctl (status|show)/.test(l))).toEqual([expect.stringMatching(/^systemctl show -p Result restore-drill\.service\s+# Result=success,/)]);
  });
});
