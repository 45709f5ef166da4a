import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CloudState, CloudStore } from '../provider/cloud/store';
import { checkRolloutTarget, checkRolloutTargets, RolloutTarget, RolloutTargets, StandInOverrideOptions, WORKSPACE_NAMING, writeOverride } from './override';
import { PlannedChanges } from './planned-changes';
import { runTerraform, TerraformRun } from './terraform-cli';
import { placeholderVariables } from './variables';

/** The plan file `plan()` reads the changes from, for the moment between Terraform's plan and show. */
const SAVED_PLAN = 'tfplan';

/** What the stand-in sees of the process running Terraform. */
export interface TerraformEnvironment {
  /** The environment for a Terraform command in a workspace using `cloudFile`. */
  env(cloudFile: string): NodeJS.ProcessEnv;
  /**
   * Where initialized working directories are kept for reuse: a workspace whose configuration asks
   * `terraform init` for exactly what an earlier one asked (providers, backend, modules) copies that
   * one's `.terraform` directory and lock file instead of running init again.
   * @default - no reuse: every workspace runs `terraform init`
   */
  readonly initTemplatesDir?: string;
}

/** A plan and the command that made it; `changes` is undefined when planning failed. */
export interface PlanOutcome {
  /**
   * `terraform plan` when it ran and succeeded; otherwise the command that failed (`init`, `plan` or
   * `show`), whose diagnostics say why.
   */
  readonly run: TerraformRun;
  /** The planned changes, read from the saved plan; undefined when any of those commands failed. */
  readonly changes?: PlannedChanges;
}

/**
 * One Terraform working directory for one synthesized stack, with its own local state and its
 * own simulated Hetzner project (cloud file). Commands run synchronously and return what
 * happened; none of them throws for a Terraform error.
 */
export class StandInWorkspace {
  private initialized = false;
  private variables: Record<string, string> = {};
  private extraVariables: Record<string, string> = {};
  private rollout: StandInOverrideOptions = {};
  private initKey?: string;

  constructor(
    private readonly terraform: TerraformEnvironment,
    /** The working directory. */
    public readonly dir: string,
    /** The simulated project's file. Workspaces may share one, as stacks share a Hetzner project. */
    public readonly cloudFile: string,
  ) {
    // Its plans and state hold the stack's variables, real secrets too when TF_VAR_… are set: the owner's alone.
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o700);
  }

  /** Replaces the configuration (a new synth of the stack), keeping state and cloud. */
  public setConfiguration(stackJson: unknown): this {
    const json = typeof stackJson === 'string' ? JSON.parse(stackJson) : stackJson;
    // Everything that can refuse runs before the stack is written: a refused target map left the new cdk.tf.json
    // beside the old override, a half-updated workspace that the next apply deployed. The override checks before
    // it writes.
    // Required variables (secrets in a real deploy) get placeholders, so plans run without them.
    const variables = placeholderVariables(json, { ...process.env, ...this.extraVariables });
    const override = writeOverride(this.dir, this.cloudFile, json, this.rollout, WORKSPACE_NAMING);
    fs.writeFileSync(path.join(this.dir, 'cdk.tf.json'), `${JSON.stringify(json, null, 2)}\n`);
    this.initKey = initKey(json, JSON.parse(fs.readFileSync(override, 'utf8')));
    this.variables = variables;
    return this;
  }

  /**
   * Rolls the machines' bundles out to `target` (a test sshd standing in for every machine) from the
   * next `setConfiguration` on; without one, applies skip the rollout. Replaces `rollOutEachTo`'s targets.
   */
  public rollOutTo(target: RolloutTarget | undefined): this {
    checkRolloutTarget('StandInWorkspace.rollOutTo', 'target', target);
    this.rollout = { rolloutTarget: target };
    return this;
  }

  /**
   * Rolls each machine's bundle out to its own target, by server name (`{ 'acme-production-app': app.target(),
   * 'acme-production-monitoring': monitoring.target() }`), from the next `setConfiguration` on, which refuses a
   * map naming a machine the stack does not roll out to or leaving one out (`writeStandInOverride`'s
   * `rolloutTargets`); a map that is not one of targets, or puts two machines on one host, is refused here.
   * Replaces `rollOutTo`'s target; `undefined` rolls nothing out.
   */
  public rollOutEachTo(targets: RolloutTargets | undefined): this {
    checkRolloutTargets(WORKSPACE_NAMING, targets);
    // A copy: the map checked is the one used, whatever the caller changes after.
    this.rollout = { rolloutTargets: targets === undefined ? undefined : Object.fromEntries(Object.entries(targets)) };
    return this;
  }

  /** Sets Terraform variables (`TF_VAR_<name>` entries) for the commands that follow, such as a rotated secret. */
  public setVariables(variables: Record<string, string>): this {
    this.extraVariables = { ...this.extraVariables, ...variables };
    return this;
  }

  /** `terraform init` (once per workspace). Always runs Terraform, whatever could be reused. */
  public init(): TerraformRun {
    const run = this.terraformRun(['init', '-input=false', '-no-color']);
    this.initialized = run.ok;
    if (run.ok) this.keepAsInitTemplate();
    return run;
  }

  /** `terraform validate -json`, after init. */
  public validate(): TerraformRun {
    return this.ensureInit() ?? this.terraformRun(['validate', '-json', '-no-color']);
  }

  /**
   * `terraform plan` into a plan file, then `terraform show -json` of it. The plan file holds every variable's value
   * in clear, so it is removed once read, also when the show fails.
   */
  public plan(options: {
    /**
     * Plan the destruction of everything instead (`terraform plan -destroy`).
     * @default false
     */
    readonly destroy?: boolean;
  } = {}): PlanOutcome {
    const failedInit = this.ensureInit();
    if (failedInit) return { run: failedInit };
    const args = ['plan', '-input=false', '-no-color', '-json', `-out=${SAVED_PLAN}`];
    if (options.destroy) args.push('-destroy');
    try {
      const run = this.terraformRun(args);
      if (!run.ok) return { run };
      const show = this.terraformRun(['show', '-json', SAVED_PLAN]);
      if (!show.ok) return { run: show };
      return { run, changes: new PlannedChanges(JSON.parse(show.stdout)) };
    } finally {
      fs.rmSync(path.join(this.dir, SAVED_PLAN), { force: true });
    }
  }

  /** `terraform apply -auto-approve`. */
  public apply(): TerraformRun {
    return this.ensureInit() ?? this.terraformRun(['apply', '-input=false', '-no-color', '-json', '-auto-approve']);
  }

  /** `terraform apply -destroy -auto-approve`. */
  public destroy(): TerraformRun {
    return this.ensureInit() ?? this.terraformRun(['apply', '-destroy', '-input=false', '-no-color', '-json', '-auto-approve']);
  }

  /** `terraform import <address> <id>`. */
  public import(address: string, id: string): TerraformRun {
    return this.ensureInit() ?? this.terraformRun(['import', '-input=false', '-no-color', address, id]);
  }

  /** The root module's outputs, by name. */
  public outputs(): Record<string, unknown> {
    const run = this.terraformRun(['output', '-json']);
    if (!run.ok) throw new Error(`terraform output failed: ${run.stderr}`);
    return Object.fromEntries(Object.entries(JSON.parse(run.stdout || '{}')).map(([k, v]) => [k, (v as { value: unknown }).value]));
  }

  /** Terraform's state, as `terraform show -json` prints it. */
  public state(): any {
    const run = this.terraformRun(['show', '-json']);
    if (!run.ok) throw new Error(`terraform show failed: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }

  /** The simulated project as the cloud sees it. */
  public cloud(): CloudState {
    return new CloudStore(this.cloudFile).read();
  }

  /** Any Terraform command in this workspace. */
  public terraformRun(args: string[]): TerraformRun {
    return runTerraform(args, this.dir, { ...this.variables, ...this.extraVariables, ...this.terraform.env(this.cloudFile) });
  }

  private ensureInit(): TerraformRun | undefined {
    if (this.initialized) return undefined;
    if (this.reuseInit()) {
      this.initialized = true;
      return undefined;
    }
    const run = this.init();
    return run.ok ? undefined : run;
  }

  /** The template for this configuration's init, if one was kept. */
  private templateDir(): string | undefined {
    return this.terraform.initTemplatesDir && this.initKey ? path.join(this.terraform.initTemplatesDir, this.initKey) : undefined;
  }

  /**
   * Copies what `terraform init` wrote for the same providers, backend and modules: `.terraform` (the
   * installed providers, the backend's settings, the module manifest) and the lock file. Nothing in
   * them names the working directory (the stand-in's local backend path is relative), so the copy is
   * what init would have written here.
   */
  private reuseInit(): boolean {
    const template = this.templateDir();
    if (!template || !fs.existsSync(path.join(template, 'complete'))) return false;
    try {
      // A reattached provider and no backend leave init nothing to write: then there is nothing to copy.
      const dotTerraform = path.join(template, 'dot-terraform');
      if (fs.existsSync(dotTerraform)) fs.cpSync(dotTerraform, path.join(this.dir, '.terraform'), { recursive: true, verbatimSymlinks: true });
      const lock = path.join(template, 'lock.hcl');
      if (fs.existsSync(lock)) fs.copyFileSync(lock, path.join(this.dir, '.terraform.lock.hcl'));
      return true;
    } catch {
      fs.rmSync(path.join(this.dir, '.terraform'), { recursive: true, force: true });
      return false;
    }
  }

  private keepAsInitTemplate(): void {
    const template = this.templateDir();
    if (!template || fs.existsSync(path.join(template, 'complete'))) return;
    // Written aside, then renamed into place: a template is complete or absent, also for other processes.
    const staging = `${template}.${process.pid}.${Date.now()}.tmp`;
    try {
      fs.mkdirSync(staging, { recursive: true });
      const dotTerraform = path.join(this.dir, '.terraform');
      if (fs.existsSync(dotTerraform)) fs.cpSync(dotTerraform, path.join(staging, 'dot-terraform'), { recursive: true, verbatimSymlinks: true });
      const lock = path.join(this.dir, '.terraform.lock.hcl');
      if (fs.existsSync(lock)) fs.copyFileSync(lock, path.join(staging, 'lock.hcl'));
      fs.writeFileSync(path.join(staging, 'complete'), '');
      fs.renameSync(staging, template);
    } catch {
      // Another process kept the same template first, or the copy failed: init runs next time.
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}

/**
 * What `terraform init` depends on in a configuration: the `terraform` block (required providers,
 * backend) as the override leaves it, module sources, and the provider of every resource, data
 * source and provider block (Terraform infers hashicorp/<prefix> for providers not required).
 */
function initKey(config: any, override: any): string {
  const typesOf = (blocks: unknown) => Object.keys((blocks ?? {}) as Record<string, unknown>).sort();
  const basis = {
    terraform: config?.terraform ?? null,
    overrideTerraform: override?.terraform ?? null,
    modules: Object.fromEntries(Object.entries<any>(config?.module ?? {}).map(([name, m]) => [name, { source: m?.source, version: m?.version }])),
    resources: typesOf(config?.resource),
    dataSources: typesOf(config?.data),
    providers: typesOf(config?.provider),
  };
  return crypto.createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 32);
}
