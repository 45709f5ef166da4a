import * as fs from 'fs';
import { TerraformStack } from 'cdktf';
import { Duration } from '../../lib';
import { BackupPlan, BackupPlanOptions } from '../../lib/backup/backup-plan';
import { Schedule, Weekday } from '../../lib/backup/schedule';
import { refusal } from '../boundary/refusal';
import { FACTS_FILE } from '../hetzner/hetzner-facts';
import { machinePayload } from '../setup/machine-payload';
import { synthJson } from '../setup/stack';
import { filesByPath } from './helpers/machine-root';
import { productionMachine } from './helpers/production-machine';

// Audit (limits): maxBackupAge, the age at which the push, the check and the BackupTooOld alert call the backups
// missing, had no upper bound. Backups that stop without a job failing (a stopped timer, a machine whose jobs no longer
// run) are noticed only then; meanwhile Hetzner replaces the oldest of its 7 daily server backups every day. A plan
// could wait a month: by then every image was taken after the backups stopped, and no weekly proof had seen a new one.

/** Hetzner's daily server-backup slots, from the reference facts. */
const SLOTS: number = JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8')).addOns.serverBackups.slots;
const LIMIT_HOURS = (SLOTS - 1) * 24;

const maxAgeHoursOnMachine = (stack: TerraformStack) =>
  /^MAX_AGE_HOURS=(.*)$/m.exec(filesByPath(machinePayload(synthJson(stack), 'production-app'))['/etc/sovereign-backup/backup.conf'])?.[1];

const REASON = 'archive machine, restored from the quarterly export if lost';

describe('maxBackupAge has an upper bound: one day less than Hetzner keeps its daily server backups', () => {
  test(`the bound follows the facts: ${SLOTS} daily slots, so ${LIMIT_HOURS} hours pass and synthesize, and the alert threshold is what the machine gets`, () => {
    expect(SLOTS).toBe(7);
    const { stack, machine, options } = productionMachine();
    new BackupPlan(stack, 'Backups', { ...options, maxBackupAge: Duration.hours(LIMIT_HOURS) }).protect(machine);
    expect(maxAgeHoursOnMachine(stack)).toBe(String(LIMIT_HOURS));
  });

  test.each([
    [Duration.hours(LIMIT_HOURS + 1), `${LIMIT_HOURS + 1} hours`],
    [Duration.days(7), '7 days'],
    [Duration.days(30), '30 days'],
  ])('%s is refused with the plan\'s path, the value and the fix', (maxBackupAge, text) => {
    const { stack, options } = productionMachine();
    expect(refusal(() => new BackupPlan(stack, 'Backups', { ...options, maxBackupAge }))).toBe(
      `production/Backups.maxBackupAge: '${text}' is not allowed: backups that stop would go unnoticed for more than 6 days, `
      + "while Hetzner replaces the oldest of its 7 daily server backups every day: less than a day is left to keep an image from before they stopped "
      + "(convert it into a snapshot), and the operating model's weekly proof of recovery passes without a new backup. "
      + `Fix: use at most Duration.days(6), such as Duration.hours(26) with a daily schedule; or pass maxBackupAgeReason with the reason the backups may go unnoticed that long`);
  });

  test('a schedule too rare for any allowed maxBackupAge is refused on the schedule', () => {
    const { stack, options } = productionMachine();
    expect(refusal(() => new BackupPlan(stack, 'Backups', { ...options, schedule: Schedule.weekly({ day: Weekday.SUNDAY, hour: 3 }) }))).toBe(
      "production/Backups.schedule: 'weekly on Sun at 03:00 UTC' is not allowed: its backups are 7 days apart, and maxBackupAge, which must be longer, "
      + 'would leave backups that stop unnoticed for more than 6 days (the operating model dumps daily). '
      + 'Fix: dump at least daily, such as Schedule.daily({ hour: 3 }); or pass maxBackupAgeReason with the reason the backups may go unnoticed that long');
  });

  test('maxBackupAgeReason lifts the bound, and the longer threshold reaches the machine', () => {
    const { stack, machine, options } = productionMachine();
    new BackupPlan(stack, 'Backups', { ...options, maxBackupAge: Duration.days(8), maxBackupAgeReason: REASON }).protect(machine);
    expect(maxAgeHoursOnMachine(stack)).toBe(String(8 * 24));
    const weekly = productionMachine();
    new BackupPlan(weekly.stack, 'Backups', { ...weekly.options, schedule: Schedule.weekly({ day: Weekday.SUNDAY, hour: 3 }), maxBackupAgeReason: REASON }).protect(weekly.machine);
    expect(maxAgeHoursOnMachine(weekly.stack)).toBe(String(7 * 24 + 2));
  });

  test.each(['TODO TODO TODO TODO TODO', 'later', '                              '])('a reason that says nothing (%j) is refused', (maxBackupAgeReason) => {
    const { stack, options } = productionMachine();
    expect(refusal(() => new BackupPlan(stack, 'Backups', { ...options, maxBackupAge: Duration.days(8), maxBackupAgeReason })))
      .toMatch(/^production\/Backups\.maxBackupAgeReason: .* is not allowed: letting backups go unnoticed for more than 6 days needs a specific reason \(at least 20 letters, 8 of them different; .*\)\. Fix: say why/);
  });

  // The message said the preset set the reason itself, which no preset does.
  test('the presets, which fix maxBackupAge within the limit, refuse the reason, saying why', () => {
    const { stack, options } = productionMachine();
    expect(refusal(() => BackupPlan.phase1(stack, 'Backups', { ...options, maxBackupAgeReason: REASON } as BackupPlanOptions)))
      .toMatch(/^BackupPlan\.phase1\.options\.maxBackupAgeReason: .* is not allowed: the Phase 1 preset keeps maxBackupAge within 6 days, so a reason to exceed it would lift nothing and be ignored\. Fix: leave it out/);
  });
});
