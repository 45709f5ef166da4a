import * as fs from 'fs';
import * as path from 'path';
import { CloudState, CloudStore } from '../provider/cloud/store';
import { RolloutTarget, writeStandInOverride } from './override';
import { PlannedChanges } from './planned-changes';
import { runTerraform, TerraformRun } from './terraform-cli';
import { placeholderVariables } from './variables';

/** What the stand-in sees of the process running Terraform. */
export interface TerraformEnvironment {
  /** The environment for a Terraform command in a workspace using `cloudFile`. */
  env(cloudFile: string): NodeJS.ProcessEnv;
}

/** A plan and the command that made it; `changes` is undefined when planning failed. */
export interface PlanOutcome {
  readonly run: TerraformRun;
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
  private rolloutTarget?: RolloutTarget;

  constructor(
    private readonly terraform: TerraformEnvironment,
    /** The working directory. */
    public readonly dir: string,
    /** The simulated project's file. Workspaces may share one, as stacks share a Hetzner project. */
    public readonly cloudFile: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Replaces the configuration (a new synth of the stack), keeping state and cloud. */
  public setConfiguration(stackJson: unknown): this {
    const json = typeof stackJson === 'string' ? JSON.parse(stackJson) : stackJson;
    fs.writeFileSync(path.join(this.dir, 'cdk.tf.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeStandInOverride(this.dir, this.cloudFile, json, { rolloutTarget: this.rolloutTarget });
    // Required variables (secrets in a real deploy) get placeholders, so plans run without them.
    this.variables = placeholderVariables(json, { ...process.env, ...this.extraVariables });
    return this;
  }

  /**
   * Rolls the machines' bundles out to `target` (a test sshd standing in for every machine) from the
   * next `setConfiguration` on; without one, applies skip the rollout.
   */
  public rollOutTo(target: RolloutTarget | undefined): this {
    this.rolloutTarget = target;
    return this;
  }

  /** Sets Terraform variables (`TF_VAR_<name>` entries) for the commands that follow, such as a rotated secret. */
  public setVariables(variables: Record<string, string>): this {
    this.extraVariables = { ...this.extraVariables, ...variables };
    return this;
  }

  /** `terraform init` (once per workspace). */
  public init(): TerraformRun {
    const run = this.terraformRun(['init', '-input=false', '-no-color']);
    this.initialized = run.ok;
    return run;
  }

  /** `terraform validate -json`, after init. */
  public validate(): TerraformRun {
    return this.ensureInit() ?? this.terraformRun(['validate', '-json', '-no-color']);
  }

  /** `terraform plan` into a plan file, then `terraform show -json` of it. */
  public plan(options: { destroy?: boolean } = {}): PlanOutcome {
    const failedInit = this.ensureInit();
    if (failedInit) return { run: failedInit };
    const args = ['plan', '-input=false', '-no-color', '-json', '-out=tfplan'];
    if (options.destroy) args.push('-destroy');
    const run = this.terraformRun(args);
    if (!run.ok) return { run };
    const show = this.terraformRun(['show', '-json', 'tfplan']);
    if (!show.ok) return { run: show };
    return { run, changes: new PlannedChanges(JSON.parse(show.stdout)) };
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
    const run = this.init();
    return run.ok ? undefined : run;
  }
}
