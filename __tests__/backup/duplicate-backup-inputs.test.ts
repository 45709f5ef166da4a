import { BackupPlan } from '../../lib/backup/backup-plan';
import { PostgresDump } from '../../lib/backup/postgres-dump';
import { refusal } from '../boundary/refusal';
import { machinePayload } from '../setup/machine-payload';
import { synthJson } from '../setup/stack';
import { filesByPath } from './helpers/machine-root';
import { productionMachine } from './helpers/production-machine';

// Audit (limits): list inputs of the backup constructs where an entry given twice is surely a mistake. A database
// named twice was dumped twice into one dump, whose manifest then named it twice: the restore drill and backup-restore
// refuse such a manifest as tampered with (check_manifest), so every dump of the plan was unrestorable by the
// library's own tools. A path named twice backs up nothing more, and usually stands where another path was meant.

function production() {
  const { stack, machine, options } = productionMachine();
  return { stack, machine, plan: new BackupPlan(stack, 'Backups', options) };
}

const conf = (stack: ReturnType<typeof production>['stack'], key: string) => {
  const text = filesByPath(machinePayload(synthJson(stack), 'production-app'))['/etc/sovereign-backup/backup.conf'];
  return new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1];
};

describe('a database named twice in PostgresDump.databases', () => {
  test.each([
    [['app', 'app'], 1, 'app'],
    [['app', 'audit', 'app'], 2, 'app'],
    [['app', 'audit', 'audit'], 2, 'audit'],
  ])('%j is refused at the call, naming the second entry, the value and the fix', (names, index, name) => {
    expect(refusal(() => PostgresDump.databases(names))).toBe(
      `PostgresDump.databases[${index}]: '${name}' is not allowed: the database is already listed (as databases[${names.indexOf(name)}]), `
      + 'and a dump that names a database twice holds it twice, which the restore drill and backup-restore refuse as a tampered manifest. '
      + 'Fix: list each database once');
  });

  test('names that differ only in case are two databases in PostgreSQL, and both are dumped', () => {
    const { stack, machine, plan } = production();
    plan.protect(machine, { postgres: PostgresDump.databases(['app', 'App']) });
    expect(conf(stack, 'PG_DATABASES')).toBe("'app App'");
  });
});

describe('a path named twice in BackupPlan.protect', () => {
  test.each([
    [['/srv/uploads', '/srv/uploads'], 1],
    [['/srv/uploads', '/srv/exports', '/srv/uploads'], 2],
  ])('%j is refused with the plan\'s path, the value and the fix', (paths, index) => {
    const { machine, plan } = production();
    expect(refusal(() => plan.protect(machine, { paths }))).toBe(
      `production/Backups.paths[${index}]: '/srv/uploads' is not allowed: the path is already listed (as paths[0]), so it backs up nothing more; `
      + 'a second path was probably meant. Fix: list each path once');
  });

  test('distinct paths, nested ones included, pass and are all backed up', () => {
    const { stack, machine, plan } = production();
    plan.protect(machine, { paths: ['/srv/uploads', '/srv/exports', '/srv/uploads/large'] });
    expect(conf(stack, 'FILE_PATHS')).toBe("'/srv/uploads /srv/exports /srv/uploads/large'");
  });
});
