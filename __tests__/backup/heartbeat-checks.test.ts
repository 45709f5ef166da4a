import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BackupPlan, RestoreDrill } from '../../lib';
import { synthBackupApp } from './helpers/fixture';
import { decodeWriteFiles } from './helpers/machine-root';

// Healthchecks counts a job down when no success follows its /start within the grace, or none comes within the period
// plus the grace after the last one. The jobs ping /start, so a grace shorter than a run their unit allows reports a
// slow run (a large dump, a check reading its slice, a drill restoring for hours) as a missed one, and one that starts
// late after a quick one as missed too. The grace is judged here against the units the machines receive, as systemd
// reads them, and the period against systemd's own next elapses of the timer's calendar.

const SECONDS: Record<string, number> = { s: 1, sec: 1, min: 60, h: 3600, d: 86400 };
/** A systemd time span as the units write it (`10min`, `6h`), in seconds. */
function span(text: string): number {
  const m = /^(\d+)(s|sec|min|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`not a time span this test reads: ${text}`);
  return Number(m[1]) * SECONDS[m[2]];
}
const line = (content: string, key: string) => {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(content);
  if (!m) throw new Error(`no ${key}= in\n${content}`);
  return m[1];
};
/**
 * The seconds between the timer's next two elapses, as systemd computes them on a machine set to Berlin's time, across
 * the night its clocks go forward (28 March 2027): a calendar without its UTC zone would elapse 23 hours apart there.
 */
function periodOf(calendar: string): number {
  const out = execFileSync('systemd-analyze', ['calendar', '--iterations=2', '--base-time=2027-03-27 00:00:00 UTC', calendar],
    { encoding: 'utf8', env: { ...process.env, TZ: 'Europe/Berlin' } });
  const utc = [...out.matchAll(/\(in UTC\): \w{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g)].map((m) => Date.parse(`${m[1].replace(' ', 'T')}Z`));
  expect(utc).toHaveLength(2);
  return (utc[1] - utc[0]) / 1000;
}

describe.each([['one copy', 'storagebox'], ['two copies', 'both']] as const)('the heartbeat checks of a Phase 1 plan and its drill (%s)', (_, drillSource) => {
  const { app, production, test: testMachine } = synthBackupApp({ drillSource: drillSource === 'both' ? 'both' : undefined });
  const plan = app.node.findAll().find((c): c is BackupPlan => c instanceof BackupPlan)!;
  const drill = app.node.findAll().find((c): c is RestoreDrill => c instanceof RestoreDrill)!;
  const files = new Map([...decodeWriteFiles(production.userData), ...decodeWriteFiles(testMachine.userData)].map((f) => [f.path, f.content]));
  const unit = (name: string) => {
    const content = files.get(`/etc/systemd/system/${name}`);
    if (content === undefined) throw new Error(`no unit ${name}`);
    return content;
  };
  // Each job: the timer that starts it, and the services whose runs come between the timer and its success ping.
  const jobs: Record<string, { timer: string; services: string[] }> = {
    'acme-production-app-dump': { timer: 'backup-push.timer', services: ['backup-bootstrap.service', 'backup-dump.service'] },
    'acme-production-app-push': { timer: 'backup-push.timer', services: ['backup-bootstrap.service', 'backup-dump.service', 'backup-push.service'] },
    'acme-production-app-prune': { timer: 'backup-prune.timer', services: ['backup-prune.service'] },
    'acme-production-app-check': { timer: 'backup-check.timer', services: ['backup-check.service'] },
    'acme-test-app-restore-drill': { timer: 'restore-drill.timer', services: ['restore-drill.service'] },
  };
  const checks = [...plan.heartbeatChecks, drill.heartbeatCheck];

  test('there is one check for every job that pings, named as it pings', () => {
    expect(checks.map((c) => c.name).sort()).toEqual(Object.keys(jobs).sort());
  });

  test.each(Object.keys(jobs))('%s: the grace covers the timer\'s random delay and the longest runs its units allow, the period the timer\'s', (name) => {
    const check = checks.find((c) => c.name === name)!;
    const job = jobs[name];
    const delay = span(line(unit(job.timer), 'RandomizedDelaySec'));
    const runs = job.services.reduce((sum, s) => sum + span(line(unit(s), 'TimeoutStartSec')), 0);
    expect(check.grace.toSeconds()).toBeGreaterThanOrEqual(delay + runs);
    expect(check.period.toSeconds()).toBe(periodOf(line(unit(job.timer), 'OnCalendar')));
    expect(check.schedule.onCalendar).toBe(line(unit(job.timer), 'OnCalendar'));
  });
});

test('docs/backup.md gives the graces the presets\' checks have', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/backup.md'), 'utf8').replace(/\s+/g, ' ');
  const { app } = synthBackupApp();
  const plan = app.node.findAll().find((c): c is BackupPlan => c instanceof BackupPlan)!;
  const words = (seconds: number) => [Math.floor(seconds / 3600) && `${Math.floor(seconds / 3600)} h`, seconds % 3600 && `${(seconds % 3600) / 60} min`].filter(Boolean).join(' ');
  for (const check of plan.heartbeatChecks) {
    const job = check.name.replace('acme-production-app-', '');
    expect(doc).toContain(`${job} ${words(check.grace.toSeconds())}`);
  }
});
