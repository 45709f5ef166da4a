import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, IAspect, TerraformResource, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import {
  BackupPlan, BackupTarget, DataClass, Environment, ErrorMonitoring, ErrorMonitoringEndpoint, Heartbeat, Location, Machine, MachineRollout, PostgresDatabase,
  RestoreCheck, RestoreDrill, S3Provider, SecretVariable, ServerType, SshKey, StorageBox, StorageBoxAccount,
} from '../../lib';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import * as secretsAtSynth from '../../lib/core/private/secrets-at-synth';
import * as sensitiveVariable from '../../lib/core/private/sensitive-variable';
import { glitchTip } from '../monitoring/helpers/fixture';
import { CHECK_MODULES, takingLibraryFile } from '../setup/library-frames';
import { earlierHclFiles, thrownMessage, withHcl } from '../setup/stack';

// Review (secrets): each construct refused a secret that was no sensitive variable once, when it was built. A plain
// JavaScript caller that set the variable's `sensitive` to false afterwards got it synthesized as non-sensitive, and
// Terraform printed the secret in plans and outputs; the S3 target's variables and a snapshot account's password were
// not even read again when rendered. Every secret a construct takes is now refused again at synth, before it is rendered.
// Review (secrets, second pass): that re-check read the variable's `sensitive` field, and cdktf renders the field merged
// with `addOverride`s, so an override got past it; it ran as an Aspect, so a secret an Aspect brought in was never
// checked; and a variable in another stack was written non-sensitive before the refusal. The stack's rendering is
// checked now, in the variable's own stack too.

/** Makes sensitive variables by id, and keeps them for the cases to flip. */
type Secret = (id: string) => TerraformVariable;

interface SecretTaker {
  /** The library files whose taking of a secret the case flips (the last test checks each is seen taking one, and every such file has a case). */
  readonly files: readonly string[];
  /** Builds the construct in `stack`, its secrets from `secret`. */
  readonly build: (stack: TerraformStack, secret: Secret) => void;
  /**
   * Each secret it takes: the variable's id, the construct path and prop the refusal names, and every place that took
   * it (the fix names them; `at` alone by default).
   */
  readonly secrets: ReadonlyArray<readonly [id: string, at: string, takenBy?: string]>;
}

const admin = { sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] };
const machine = (stack: TerraformStack, environment = Environment.PRODUCTION, extra: object = {}) => new Machine(stack, 'App', {
  environment, role: 'app', serverType: ServerType.CX23, location: Location.FSN1, ...admin, ...extra,
});
const pinned = { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr'] };
const readOnlyAccount = (secret: Secret, id: string) => StorageBoxAccount.fromAttributes({
  host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1, readonly: true, password: secret(id),
});
const s3 = (secret: Secret) => BackupTarget.s3Compatible({
  provider: S3Provider.SCALEWAY, endpoint: secret('s3_endpoint'), bucket: secret('s3_bucket'), accessKeyId: secret('s3_key_id'), secretAccessKey: secret('s3_secret'),
});

const takers: Record<string, SecretTaker> = {
  SecretVariable: {
    files: ['boundary/secret-variable.ts'],
    build: (stack) => { new SecretVariable(stack, 'api_token', { description: 'Token of the API' }); },
    secrets: [['api_token', 'acme/api_token.sensitive']],
  },
  StorageBox: {
    files: ['hetzner/storage-box.ts'],
    build: (stack, secret) => { new StorageBox(stack, 'Box', { environment: Environment.TEST, password: secret('box_password') }); },
    secrets: [['box_password', 'acme/Box.password']],
  },
  StorageBoxSubaccount: {
    files: ['hetzner/storage-box.ts'],
    build: (stack, secret) => {
      new StorageBox(stack, 'Box', { environment: Environment.TEST, password: secret('box_password') })
        .addSubaccount('App', { homeDirectory: 'backups/test/app', password: secret('box_app_password') });
    },
    secrets: [['box_app_password', 'acme/Box/App.password']],
  },
  PostgresDatabase: {
    files: ['database/postgres-database.ts'],
    build: (stack, secret) => {
      new PostgresDatabase(stack, 'Database', {
        machine: machine(stack), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret('database_password'),
        withoutBackup: 'the test has no backup plan; the stacks wire one',
      });
    },
    secrets: [['database_password', 'acme/Database.password']],
  },
  ErrorMonitoring: {
    files: ['monitoring/error-monitoring.ts'],
    build: (stack, secret) => { new ErrorMonitoring(stack, 'Errors', { machine: machine(stack, Environment.TEST), endpoint: ErrorMonitoringEndpoint.selfHosted(glitchTip), dsn: secret('dsn') }); },
    secrets: [['dsn', 'acme/Errors.dsn']],
  },
  'Machine rollout': {
    files: ['hetzner/private/rollout-options.ts'],
    // The key is taken (checked and registered) when the machine is built; the rollout its first part builds takes it unchecked.
    build: (stack, secret) => {
      machine(stack, Environment.TEST, { rollout: { sshPrivateKey: secret('deploy_ssh_key') } })
        .addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] });
    },
    secrets: [['deploy_ssh_key', 'acme/App.rollout.sshPrivateKey']],
  },
  // A machine takes its rollout's key when it is built: with no bundle part yet there is no rollout, and the key was
  // neither checked nor registered, though the caller's variable is in the stack all the same.
  'Machine rollout, no bundle part yet': {
    files: ['hetzner/private/rollout-options.ts'],
    build: (stack, secret) => {
      const app = machine(stack, Environment.TEST, { rollout: { sshPrivateKey: secret('deploy_ssh_key') } });
      if (app.rollout !== undefined) throw new Error('the case is a machine without a rollout');
    },
    secrets: [['deploy_ssh_key', 'acme/App.rollout.sshPrivateKey']],
  },
  // MachineRollout is public: one built directly takes its key itself (not through a Machine, which registered none).
  'MachineRollout built directly': {
    files: ['hetzner/private/rollout-options.ts'],
    build: (stack, secret) => {
      new MachineRollout(stack, 'Rollout', { bundle: machine(stack, Environment.TEST).bundle, host: '203.0.113.1', dependsOn: [], options: { sshPrivateKey: secret('deploy_ssh_key') } });
    },
    secrets: [['deploy_ssh_key', 'acme/Rollout.options.sshPrivateKey']],
  },
  BackupPlan: {
    files: ['backup/backup-plan.ts', 'backup/heartbeat.ts', 'backup/backup-target.ts'],
    // No other construct here takes a secret: the working directory is the plan's own doing.
    build: (stack, secret) => {
      new BackupPlan(stack, 'Backups', {
        environment: Environment.PRODUCTION, resticPassword: secret('restic_password'), heartbeat: Heartbeat.healthchecks(secret('heartbeat_url')),
        targets: [BackupTarget.storageBox(StorageBoxAccount.fromAttributes({
          host: 'u1-sub3.your-storagebox.de', username: 'u1-sub3', location: Location.HEL1, readonly: false, password: secret('account_password'),
        }), pinned), s3(secret)],
      }).protect(machine(stack));
    },
    // A snapshot account's password was checked by its factory, the S3 target's four variables by theirs: each is
    // refused again at synth, under the plan that wrote them.
    secrets: [['restic_password', 'acme/Backups.resticPassword'], ['heartbeat_url', 'acme/Backups.heartbeat'], ['account_password', 'acme/Backups.targets'],
      ['s3_endpoint', 'acme/Backups.targets'], ['s3_bucket', 'acme/Backups.targets'], ['s3_key_id', 'acme/Backups.targets'], ['s3_secret', 'acme/Backups.targets']],
  },
  'BackupPlan with a sub-account': {
    files: ['backup/backup-target.ts'],
    build: (stack, secret) => {
      const account = new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, password: secret('box_password') })
        .addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret('box_app_password') });
      new BackupPlan(stack, 'Backups', {
        environment: Environment.PRODUCTION, resticPassword: secret('restic_password'), heartbeat: Heartbeat.healthchecks(secret('heartbeat_url')),
        targets: [BackupTarget.storageBox(account, pinned)],
      }).protect(machine(stack));
    },
    // A construct account's password is read when the target is rendered: registered under the plan too, as under the
    // sub-account. One flip, one line: it names the first place, and the fix both.
    secrets: [['box_app_password', 'acme/Box/App.password', 'acme/Box/App.password, acme/Backups.targets']],
  },
  RestoreDrill: {
    files: ['backup/restore-drill.ts', 'backup/heartbeat.ts', 'backup/backup-target.ts'],
    build: (stack, secret) => {
      new RestoreDrill(stack, 'Drill', {
        machine: machine(stack, Environment.TEST, { dataClasses: [DataClass.SENSITIVE] }),
        source: BackupTarget.storageBox(readOnlyAccount(secret, 'drill_box_password'), pinned), additionalSources: [s3(secret)],
        sourceHost: 'acme-production-app', resticPassword: secret('restic_password'), heartbeat: Heartbeat.healthchecks(secret('drill_heartbeat_url')),
        checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
      });
    },
    secrets: [['restic_password', 'acme/Drill.resticPassword'], ['drill_heartbeat_url', 'acme/Drill.heartbeat'],
      ['drill_box_password', 'acme/Drill.source'], ['s3_secret', 'acme/Drill.additionalSources[0]']],
  },
};

/** A stack named acme holding one secret-taking construct; its variables by id (a SecretVariable is found in the tree). */
function build(taker: SecretTaker, app: App = Testing.app()): { stack: TerraformStack; variables: Map<string, TerraformVariable> } {
  const stack = new TerraformStack(app, 'acme');
  new HcloudProvider(stack, 'hcloud', {});
  const variables = new Map<string, TerraformVariable>();
  taker.build(stack, (id) => {
    const variable = new TerraformVariable(stack, id, { type: 'string', sensitive: true });
    variables.set(id, variable);
    return variable;
  });
  for (const c of stack.node.findAll()) if (c instanceof TerraformVariable && !variables.has(c.friendlyUniqueId)) variables.set(c.friendlyUniqueId, c);
  return { stack, variables };
}

/** What a plain JavaScript caller can do once the construct has checked the variable: TypeScript's readonly is gone there. */
function flipSensitive(variable: TerraformVariable): void {
  (variable as unknown as { sensitive: boolean }).sensitive = false;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The synth-time refusal: the variable was declared sensitive, so its fix is to keep it so, naming who took it. */
const refusal = (at: string, id: string, takenBy = at) => new RegExp(`${escape(at)}: 'var\\.${id}' is not allowed: `
  + 'the variable is not rendered sensitive, so Terraform would print the secret in plans and outputs\\. '
  + `Fix: keep it sensitive: its \`sensitive\` was set to false, or overridden with addOverride, `
  // A SecretVariable that no construct took names itself: it was declared sensitive.
  + (takenBy === `acme/${id}.sensitive` ? 'after it was declared sensitive' : `after ${escape(takenBy)} took it`));

const flips = Object.entries(takers).flatMap(([name, taker]) => taker.secrets.map(([id, at, takenBy]) => [name, id, at, takenBy ?? at, taker] as const));

describe("a secret's sensitive flag, set to false by a plain JavaScript caller after the construct took it", () => {
  test.each(flips)('%s: %s is refused at synth, naming %s, the variable and the fix', (_, id, at, takenBy, taker) => {
    const { stack, variables } = build(taker);
    // Built as it is, the stack synthesizes: the refusal below is the flip's alone.
    expect(() => Testing.synth(stack)).not.toThrow();
    flipSensitive(variables.get(id)!);
    const message = thrownMessage(() => Testing.synth(stack));
    expect(message).toMatch(refusal(at, id, takenBy));
    // One flip, one line (a SecretVariable registers itself, then the construct it is passed to).
    expect(message.split('\n')).toHaveLength(1);
  });

  test.each([false, true])('is refused on the rendering, before the stack is written, also with skipValidation (cdktf then runs no validation; hclOutput %s)', (hclOutput) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    try {
      // cdktf 0.21 takes the HCL path from SYNTH_HCL_OUTPUT, read when a stack is built; App's hclOutput only names the manifest's file.
      withHcl(hclOutput, () => {
        const app = new App({ outdir, skipValidation: true, hclOutput });
        const { stack, variables } = build(takers.StorageBox, app);
        const hcl = jest.spyOn(stack, 'toHclTerraform');
        flipSensitive(variables.get('box_password')!);
        expect(() => app.synth()).toThrow(refusal('acme/Box.password', 'box_password'));
        expect(fs.readdirSync(path.join(outdir, 'stacks', 'acme'))).toEqual([]);
        // The path asked for was taken: the HCL case cannot fall back to JSON unnoticed.
        expect(hcl).toHaveBeenCalledTimes(hclOutput ? 1 : 0);
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  // Review (synth): with --hcl a stack was rendered to JSON twice, for its secrets before the HCL and again for the
  // written-stack check, which cannot read the HCL it wrote: the check now takes the first rendering.
  // The call count holds whether or not the written-stack check ran: that it still refuses under --hcl is
  // written-stack-check.test.ts's to show; here only the rendering count and the secret's refusal.
  test.each([false, true])('with --hcl, a stack with a secret and a Machine is rendered to JSON once, and a flipped secret is still refused (flipped %s)', (flipped) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    try {
      withHcl(true, () => {
        const app = new App({ outdir, hclOutput: true });
        const { stack, variables } = build(takers.StorageBox, app);
        machine(stack); // its library constructs make the written-stack check run on the stack
        if (flipped) flipSensitive(variables.get('box_password')!);
        const json = jest.spyOn(stack, 'toTerraform');
        const written = path.join(outdir, 'stacks', 'acme', 'cdk.tf');
        if (flipped) {
          // An earlier synth's cdk.tf: the refused synth removes it.
          fs.mkdirSync(path.dirname(written), { recursive: true });
          fs.writeFileSync(written, '# earlier\n');
          expect(() => app.synth()).toThrow(refusal('acme/Box.password', 'box_password'));
          expect(fs.existsSync(written)).toBe(false);
        } else {
          app.synth();
          expect(fs.readFileSync(written, 'utf8')).toMatch(/sensitive\s*=\s*true/);
        }
        expect(json).toHaveBeenCalledTimes(1);
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  // Review (hcl): the refusal of the stack overrides cdk.tf leaves out ran in the written-stack check only, which a
  // stack gets from a Machine, an ObjectStorageBackend or a rule pack: a stack holding only a secret wrote HCL without
  // the override while secrets-at-synth had checked the JSON with it.
  test.each([false, true])('a stack holding only a secret, with a stack override of its resource, is written as JSON and refused with --hcl (hcl %s)', (hcl) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    try {
      withHcl(hcl, () => {
        const app = new App({ outdir, hclOutput: hcl });
        const { stack } = build(takers.StorageBox, app);
        const box = stack.node.findChild('Box').node.findChild('Resource') as TerraformResource;
        const key = `resource.${box.terraformResourceType}.${stack.getLogicalId(box)}.location`;
        stack.addOverride(key, 'ash');
        // An earlier --hcl synth's files of the stack: a refused synth leaves none behind.
        const earlier = hcl ? earlierHclFiles(outdir, 'acme') : [];
        const message = thrownMessage(() => app.synth());
        if (!hcl) {
          expect(message).toBe('');
          expect(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'acme', 'cdk.tf.json'), 'utf8')).resource[box.terraformResourceType][stack.getLogicalId(box)].location).toBe('ash');
          return;
        }
        expect(message).toContain(`[acme] stack.addOverride('${key}'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) cdktf 0.21 and cdktn 0.24 write only the terraform block of a stack's overrides into cdk.tf`);
        expect(message).toMatch(/Put it on the element instead \(resource\.addOverride\('location', \.\.\.\), which cdk\.tf carries\), or synthesize JSON \(without --hcl\)/);
        for (const f of earlier) expect(fs.existsSync(f)).toBe(false);
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  // A SecretVariable registers itself, then the construct it is passed to: the construct is the one to name.
  test('a SecretVariable passed to a construct is refused naming the construct alone', () => {
    const { stack, variables } = build({
      files: [],
      build: (s) => { new StorageBox(s, 'Box', { environment: Environment.TEST, password: new SecretVariable(s, 'box_password', { description: 'Password of the box' }) }); },
      secrets: [],
    });
    expect(() => Testing.synth(stack)).not.toThrow();
    flipSensitive(variables.get('box_password')!);
    const message = thrownMessage(() => Testing.synth(stack));
    expect(message).toMatch(refusal('acme/Box.password', 'box_password'));
    expect(message).not.toContain('acme/box_password');
    expect(message.split('\n')).toHaveLength(1);
  });

  test('every flipped secret of a stack is named in one refusal', () => {
    const { stack, variables } = build(takers.BackupPlan);
    for (const id of ['restic_password', 's3_secret']) flipSensitive(variables.get(id)!);
    const message = thrownMessage(() => Testing.synth(stack));
    expect(message).toMatch(refusal('acme/Backups.resticPassword', 'restic_password'));
    expect(message).toMatch(refusal('acme/Backups.targets', 's3_secret'));
  });
});

// TypeScript allows both overrides; cdktf renders deepMerge(attributes, overrides), so the field stays true.
describe('a secret rendered non-sensitive by an override, or brought in by an Aspect', () => {
  const overrides: Record<string, (stack: TerraformStack, variable: TerraformVariable) => void> = {
    "on the variable (addOverride('sensitive', false))": (_, variable) => variable.addOverride('sensitive', false),
    "on its stack (addOverride('variable.<id>.sensitive', false))": (stack, variable) => stack.addOverride(`variable.${variable.friendlyUniqueId}.sensitive`, false),
  };
  const synths: Record<string, (stack: TerraformStack) => unknown> = {
    'Testing.synth': (stack) => Testing.synth(stack),
    'Testing.synthHcl': (stack) => Testing.synthHcl(stack),
    'Testing.fullSynth': (stack) => Testing.fullSynth(stack),
  };
  const cases = Object.keys(overrides).flatMap((o) => Object.keys(synths).map((s) => [o, s] as const));

  test.each(cases)('%s is refused by %s', (override, synth) => {
    const { stack, variables } = build(takers.StorageBox);
    const variable = variables.get('box_password')!;
    overrides[override](stack, variable);
    // The field the construction-time check reads is still true: only the rendering tells.
    expect(variable.sensitive).toBe(true);
    expect(() => synths[synth](stack)).toThrow(refusal('acme/Box.password', 'box_password'));
  });

  // An Aspect added while aspects run is never invoked: a check that was one missed such a secret.
  test('a SecretVariable an Aspect declares while aspects run, then flips, is refused', () => {
    const { stack } = build(takers.StorageBox);
    const lateSecret: IAspect = {
      visit: (node: IConstruct) => {
        if (node === stack) flipSensitive(new SecretVariable(stack, 'late_token', { description: 'Token a team aspect adds' }));
      },
    };
    Aspects.of(stack).add(lateSecret);
    expect(() => Testing.synth(stack)).toThrow(refusal('acme/late_token.sensitive', 'late_token'));
  });
});

/** The variable declared in a stack named secrets, taken by a StorageBox in acme; `order` is the tree's, which cdktf synthesizes in. */
const twoStacks = (outdir: string, order: readonly string[]) => {
  const app = new App({ outdir });
  const stacks = new Map(order.map((id) => [id, new TerraformStack(app, id)]));
  const password = new TerraformVariable(stacks.get('secrets')!, 'box_password', { type: 'string', sensitive: true });
  const acme = stacks.get('acme')!;
  new HcloudProvider(acme, 'hcloud', {});
  new StorageBox(acme, 'Box', { environment: Environment.TEST, password });
  return { app, password };
};

describe('a secret whose variable lives in another stack than the construct that took it', () => {
  test.each([[['secrets', 'acme']], [['acme', 'secrets']]])("is refused before the variable's own stack is written (synthesized in the order %j)", (order) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    try {
      // Unflipped, it synthesizes: a stack that read only its own rendering would refuse every such secret.
      const kept = twoStacks(path.join(outdir, 'kept'), order);
      expect(() => kept.app.synth()).not.toThrow();
      for (const stack of order) expect(fs.existsSync(path.join(outdir, 'kept', 'stacks', stack, 'cdk.tf.json'))).toBe(true);

      const flipped = twoStacks(path.join(outdir, 'flipped'), order);
      flipSensitive(flipped.password);
      const message = thrownMessage(() => flipped.app.synth());
      for (const stack of order) expect(fs.existsSync(path.join(outdir, 'flipped', 'stacks', stack, 'cdk.tf.json'))).toBe(false);
      expect(message).toMatch(refusal('acme/Box.password', 'box_password'));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

// Terraform runs in cdktf.out/stacks/<stack>, and what it saves there (a plan, a local state) holds the secrets in clear.
// Review (synth): a later stack's refusal failed the synth after the stacks before it were written; their new files
// stayed in the output beside the previous synth's manifest, a half synth that a deploy or a reader could act on.
describe("a synth that a later stack's refusal fails", () => {
  test.each([false, true])("leaves no stack file it wrote, and keeps what else is in the output (hclOutput %s)", (hclOutput) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    const files = hclOutput ? ['cdk.tf', 'metadata.json'] : ['cdk.tf.json'];
    try {
      withHcl(hclOutput, () => {
        // What a team and an earlier synth left there: a local state, and an earlier synth's manifest and files.
        const previous = twoStacks(outdir, ['secrets', 'acme']);
        previous.app.synth();
        const kept = path.join(outdir, 'stacks', 'secrets', 'terraform.tfstate');
        fs.writeFileSync(kept, '{}');
        fs.writeFileSync(path.join(outdir, 'stacks', 'acme', 'cdk.tf.json.user-note'), 'mine');

        // The variable's stack is written first, still sensitive; acme's Aspect then flips it, and acme's rendering refuses it.
        const { app, password } = twoStacks(outdir, ['secrets', 'acme']);
        const acme = app.node.findChild('acme') as TerraformStack;
        Aspects.of(acme).add({ visit: (node: IConstruct) => { if (node === acme) flipSensitive(password); } });
        const written: string[] = [];
        const secrets = app.node.findChild('secrets') as TerraformStack;
        const synthesizer = secrets.synthesizer;
        secrets.synthesizer = { synthesize: (session) => {
          synthesizer.synthesize(session);
          written.push(...files.filter((f) => fs.existsSync(path.join(outdir, 'stacks', 'secrets', f))));
        } };

        expect(thrownMessage(() => app.synth())).toMatch(refusal('acme/Box.password', 'box_password'));
        // secrets was written by this synth before the refusal (the case would prove nothing otherwise), and is gone.
        expect(written).toEqual(files);
        for (const stack of ['secrets', 'acme']) {
          for (const file of files) expect(fs.existsSync(path.join(outdir, 'stacks', stack, file))).toBe(false);
        }
        expect(fs.readFileSync(kept, 'utf8')).toBe('{}');
        expect(fs.readFileSync(path.join(outdir, 'stacks', 'acme', 'cdk.tf.json.user-note'), 'utf8')).toBe('mine');

        // Unflipped, the same app writes both stacks again.
        twoStacks(outdir, ['secrets', 'acme']).app.synth();
        for (const stack of ['secrets', 'acme']) {
          for (const file of files) expect(fs.existsSync(path.join(outdir, 'stacks', stack, file))).toBe(true);
        }
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  // Review (mend): a removal that failed (a root-owned file from an earlier sudo run, a directory in its place) threw
  // its own error in place of the refusal.
  test('throws the refusal when a stack file cannot be removed, and names that file on it', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-at-synth-'));
    try {
      withHcl(false, () => {
        // acme is refused before its write: the path stays a directory, which rmSync without recursive refuses.
        const stuck = path.join(outdir, 'stacks', 'acme', 'cdk.tf.json');
        fs.mkdirSync(stuck, { recursive: true });
        fs.writeFileSync(path.join(stuck, 'inside'), 'x');
        const { app, password } = twoStacks(outdir, ['secrets', 'acme']);
        const acme = app.node.findChild('acme') as TerraformStack;
        Aspects.of(acme).add({ visit: (node: IConstruct) => { if (node === acme) flipSensitive(password); } });
        const message = thrownMessage(() => app.synth());
        expect(message).toMatch(refusal('acme/Box.password', 'box_password'));
        expect(message).toContain(`These files of the failed synth could not be removed; remove them before a deploy: ${stuck} (`);
        // The removals after the one that failed still ran.
        expect(fs.existsSync(path.join(outdir, 'stacks', 'secrets', 'cdk.tf.json'))).toBe(false);
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("the working directory of a team's own TerraformStack that holds a secret", () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-takers-'));
  // The usual umask: what cdktf creates is readable by every local user.
  const umask = process.umask(0o022);
  afterAll(() => {
    process.umask(umask);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
  const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
  const dir = path.join(outdir, 'stacks', 'acme');

  test('without a secret, is left as cdktf makes it: nothing of this library is in the stack', () => {
    fs.rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
    const app = new App({ outdir });
    new HcloudProvider(new TerraformStack(app, 'acme'), 'hcloud', {});
    app.synth();
    expect(modeOf(dir)).toBe(0o755);
  });

  test.each(Object.entries(takers))("with %s: is its owner's alone, and the next synth removes a saved plan", (_, taker) => {
    fs.rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
    const synth = () => {
      const app = new App({ outdir });
      build(taker, app);
      app.synth();
    };
    synth();
    expect(modeOf(dir)).toBe(0o700);
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'plan'), 'what `cdktf plan` saves', { mode: 0o644 });
    synth();
    expect(fs.existsSync(path.join(dir, 'plan'))).toBe(false);
    expect(modeOf(dir)).toBe(0o700);
  });

  // `cdktf plan` in the variable's own stack saves its value in clear there too.
  test("with a plain sensitive TerraformVariable declared in another stack: that stack's is its owner's alone too", () => {
    fs.rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
    twoStacks(outdir, ['secrets', 'acme']).app.synth();
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.join(outdir, 'stacks', 'secrets'))).toBe(0o700);
  });
});

/**
 * The library files that took each of the case's secrets, by variable id: a file takes one when it registers it for the
 * synth-time check or checks it when the construct is built (heartbeat.ts checks its URL, the plan registers it). Each
 * is the first library file in the call's stack outside the checks' own modules; observed while the case is built and
 * synthesized (a construct account's password is taken when its target is rendered).
 */
function filesTaking(taker: SecretTaker): Map<string, Set<string>> {
  const byVariable = new Map<TerraformVariable, Set<string>>();
  const record = (value: unknown) => {
    if (!(value instanceof TerraformVariable)) return;
    const file = takingLibraryFile();
    if (file !== undefined) byVariable.set(value, (byVariable.get(value) ?? new Set()).add(file));
  };
  const recheck = secretsAtSynth.recheckAtSynth;
  const refuse: typeof sensitiveVariable.refuseUnlessSensitiveVariable = sensitiveVariable.refuseUnlessSensitiveVariable;
  const spies = [
    jest.spyOn(secretsAtSynth, 'recheckAtSynth').mockImplementation((scope, prop, variable) => { record(variable); recheck(scope, prop, variable); }),
    jest.spyOn(sensitiveVariable, 'refuseUnlessSensitiveVariable').mockImplementation((at, prop, value, fix) => { record(value); refuse(at, prop, value, fix); }),
  ];
  try {
    const { stack, variables } = build(taker);
    Testing.synth(stack);
    return new Map([...variables].map(([id, variable]) => [id, byVariable.get(variable) ?? new Set<string>()]));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

// Review (secrets): a file counted as covered when a case named it, whether or not the case flipped a secret that file
// took; a case is now tied to the files seen taking the very secrets it flips (each flip above is refused).
test('every library file that takes a secret has a case above that flips a secret it took', () => {
  const lib = path.join(__dirname, '..', '..', 'lib');
  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const taking = files(lib)
    .filter((f) => /\bis\.secret\(|\b(requireSensitiveVariable|refuseUnlessSensitiveVariable|protectCheckedSecret)\(/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(lib, f))
    .filter((f) => !CHECK_MODULES.includes(f));
  const covered = new Set<string>();
  const unflipped: string[] = [];
  for (const [name, taker] of Object.entries(takers)) {
    const taken = filesTaking(taker);
    const flippedFrom = new Set(taker.secrets.flatMap(([id]) => [...(taken.get(id) ?? [])]));
    // A file a case names is one that took a secret the case flips.
    unflipped.push(...taker.files.filter((f) => !flippedFrom.has(f)).map((f) => `${name}: ${f}`));
    for (const f of flippedFrom) covered.add(f);
  }
  expect(unflipped).toEqual([]);
  expect(taking.length).toBeGreaterThan(5);
  expect(taking.filter((f) => !covered.has(f)).sort()).toEqual([]);
});
