import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { Environment, Location, Machine, Phase, Product, ServerType, SshKey, StorageBox, ValidationError } from '../../lib';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import * as sensitiveVariable from '../../lib/core/private/sensitive-variable';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { takingLibraryFile } from '../setup/library-frames';

// Review: PostgresDatabase, StorageBox, its sub-accounts, BackupPlan, RestoreDrill and the backup targets refused a
// secret that is no sensitive variable twice: once in checkProps (is.secret), then again in requireSensitiveVariable,
// called for the working directory's sake. Each now refuses it once and still protects the directory (the call is
// the same; __tests__/core/secrets-at-synth.test.ts proves it for every construct that takes a secret). What is counted
// here is construction: the synth-time check (secrets-at-synth) reads each secret once more, at synth, which this does not run.
// Reads are counted by the construct (or factory) and prop that check them: a value checked again by another taker (a
// Heartbeat's URL, whose fields are not frozen, by BackupPlan and RestoreDrill; a construct account's live password
// when its BackupTarget is rendered) is a second moment, not a repeat; the same taker checking it twice, in one file or
// in two (a Machine and the rollout it builds), is a repeat. A taker is a construct and a prop name: a construct that
// checks the same variable under two prop names counts as two takers, each checking it once, and is not caught here.
// Review (secrets): reads were counted per library file, so a construct that checked its secret once in each of two
// files passed, and two constructs of one file that each checked it once failed.

/** The checks a construct or factory calls with its own path and prop: a read of `sensitive` inside one is that taker's. */
const CHECKS = ['refuseUnlessSensitiveVariable', 'requireSensitiveVariable'] as const;

/** The flag of each variable built while reads are counted, kept for the next count (a machine's first part, counted apart). */
const values = new WeakMap<TerraformVariable, unknown>();

/**
 * How often each variable's `sensitive` was read, by the taker that read it: `<construct path or factory>.<prop>` for a
 * read inside a check called for it, else the library file that read it (the check's own modules skipped). A refusal
 * reads it once, so two reads by one taker are one value checked twice.
 */
function sensitiveReads(build: () => void): Map<string, Map<string, number>> {
  const reads = new Map<string, Map<string, number>>();
  const own = Object.getOwnPropertyDescriptor(TerraformVariable.prototype, 'sensitive');
  // The checks being run, innermost last.
  const takers: string[] = [];
  const spies = CHECKS.map((name) => {
    const check = sensitiveVariable[name] as (at: IConstruct | string, prop: string, ...rest: unknown[]) => void;
    return jest.spyOn(sensitiveVariable, name).mockImplementation(((at: IConstruct | string, prop: string, ...rest: unknown[]) => {
      takers.push(`${typeof at === 'string' ? at : at.node.path}.${prop}`);
      try {
        check(at, prop, ...rest);
      } finally {
        takers.pop();
      }
    }) as never);
  });
  Object.defineProperty(TerraformVariable.prototype, 'sensitive', {
    configurable: true,
    get(this: TerraformVariable) {
      // secrets-at-synth.ts, a check module too, reads the rendering at synth, never the field: skipping it changes nothing.
      const reader = takers.at(-1) ?? takingLibraryFile() ?? 'elsewhere';
      const byReader = reads.get(this.node.path) ?? new Map<string, number>();
      byReader.set(reader, (byReader.get(reader) ?? 0) + 1);
      reads.set(this.node.path, byReader);
      return values.get(this);
    },
    set(this: TerraformVariable, value: unknown) { values.set(this, value); },
  });
  try {
    build();
  } finally {
    for (const spy of spies) spy.mockRestore();
    if (own) Object.defineProperty(TerraformVariable.prototype, 'sensitive', own);
    else delete (TerraformVariable.prototype as { sensitive?: boolean }).sensitive;
  }
  return reads;
}

const checkedTwice = (reads: Map<string, Map<string, number>>) => [...reads]
  .flatMap(([variable, byReader]) => [...byReader].filter(([, n]) => n > 1).map(([reader, n]) => `${variable}: ${n} times by ${reader}`));

test("each secret of a product's stacks is checked once by each construct (or factory) that takes it", () => {
  const reads = sensitiveReads(() => new ProductStacks(Testing.app(), new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring })));
  // The product's secrets: the database's, the Storage Box's and its sub-accounts', the backups' and the drill's. Each
  // is read by a library file: a construct that dropped its check would leave its secret unread there.
  const secrets = ['acme-production/database_app_password_production', 'acme-production/storage_box_password',
    'acme-production/storage_box_app_password', 'acme-production/restic_password', 'acme-test/restic_password', 'acme-test/production_backup_drill_password'];
  expect(secrets.filter((v) => ![...(reads.get(v)?.keys() ?? [])].some((reader) => reader !== 'elsewhere'))).toEqual([]);
  expect(checkedTwice(reads)).toEqual([]);
});

// A Machine checks its rollout's key when it is built, and the rollout its first part builds takes the same key. Both
// read it under the machine's path and prop, so the reads are measured around each step: the one read is the Machine's.
test("a machine's rollout key is checked once, by the machine when it is built, and not again when a bundle part builds the rollout", () => {
  let app: Machine | undefined;
  // The key is declared while reads are counted: its flag is seen only on a variable built then.
  const built = sensitiveReads(() => {
    const stack = new TerraformStack(Testing.app(), 'acme');
    new HcloudProvider(stack, 'hcloud', {});
    const key = new TerraformVariable(stack, 'deploy_ssh_key', { type: 'string', sensitive: true });
    app = new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')],
      adminCidrs: ['203.0.113.0/24'], rollout: { sshPrivateKey: key } });
  });
  expect([...(built.get('acme/deploy_ssh_key') ?? [])]).toEqual([['acme/App.rollout.sshPrivateKey', 1]]);
  const firstPart = sensitiveReads(() => app!.addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] }));
  expect(app!.rollout).toBeDefined();
  expect([...(firstPart.get('acme/deploy_ssh_key') ?? [])]).toEqual([]);
});

test('a secret that is no sensitive variable is still refused, naming the construct path, the value and the fix', () => {
  const stack = new TerraformStack(Testing.app(), 'acme');
  new HcloudProvider(stack, 'hcloud', {});
  const password = new TerraformVariable(stack, 'box_password', { type: 'string' });
  const refusal = (() => {
    try {
      new StorageBox(stack, 'Backups', { environment: Environment.TEST, password });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(refusal).toBeInstanceOf(ValidationError);
  expect((refusal as Error).message).toMatch(/acme\/Backups.*password.*var\.box_password.*not marked sensitive.*Fix: declare it with \{ sensitive: true \}/s);
});
