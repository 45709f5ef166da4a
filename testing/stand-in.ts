import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { TerraformStack, Testing } from 'cdktf';
import { installStandIn, standInEnvironment } from './harness/provider-install';
import { ReattachDaemon } from './harness/reattach-daemon';
import { checkOptions, fail, is, orNothing } from '../lib/core/runtime-checks';
import { readJsonFile } from '../lib/core/private/json-file';
import { StandInWorkspace } from './harness/workspace';

/** A stack to put in a workspace: a construct, a synthesized stack directory or file, or its JSON. */
export type StackSource = TerraformStack | string | Record<string, unknown>;

/** Options for a {@link HetznerStandIn}. */
export interface HetznerStandInOptions {
  /**
   * Where the mirror, the CLI configuration, the workspaces and the cloud files go.
   * @default - a fresh directory under the system temp dir
   */
  readonly dir?: string;
  /**
   * Reach one long-lived plugin process through TF_REATTACH_PROVIDERS instead of letting
   * Terraform start the plugin for every command: about ten times faster per command.
   * Without it, Terraform installs the stand-in from the mirror and launches it with the
   * go-plugin handshake, exactly as it would launch the real provider.
   * @default true
   */
  readonly reattach?: boolean;
}

/** Options for a workspace of a {@link HetznerStandIn}. */
export interface WorkspaceOptions {
  /**
   * A readable name for the working directory.
   * @default - the stack's name, or "stack"
   */
  readonly name?: string;
  /**
   * The simulated Hetzner project (cloud file). Workspaces given the same file see each
   * other's objects, as stacks deployed with the same token do.
   * @default - a project of the workspace's own
   */
  readonly cloudFile?: string;
}

let counter = 0;

/**
 * A local stand-in for Hetzner Cloud that Terraform itself drives: it installs the stand-in
 * provider as hetznercloud/hcloud 1.68.0 into a filesystem mirror, writes the CLI configuration
 * that uses it, and creates Terraform working directories for synthesized stacks.
 *
 * ```ts
 * const standIn = new HetznerStandIn();
 * const ws = standIn.workspace(stack);
 * expect(ws.plan().changes?.creates).toHaveLength(6);
 * ```
 */
export class HetznerStandIn {
  private static sharedInstance?: HetznerStandIn;

  /** One stand-in per process (one test worker), in reattach mode; what the jest matchers use. */
  public static shared(): HetznerStandIn {
    HetznerStandIn.sharedInstance ??= new HetznerStandIn({ reattach: true });
    return HetznerStandIn.sharedInstance;
  }

  /** The stand-in's directory: mirror, CLI configuration, workspaces, init templates. */
  public readonly dir: string;
  /** The Terraform CLI configuration (TF_CLI_CONFIG_FILE) that installs hcloud from the mirror. */
  public readonly cliConfigFile: string;
  /** The filesystem mirror holding the stand-in. */
  public readonly mirrorDir: string;
  /** Whether Terraform reaches one long-lived plugin (TF_REATTACH_PROVIDERS) rather than launching its own. */
  public readonly reattach: boolean;
  /** Initialized working directories that workspaces with the same providers and backend copy instead of running init. */
  public readonly initTemplatesDir: string;
  private daemon?: ReattachDaemon;

  constructor(options: HetznerStandInOptions = {}) {
    checkOptions<HetznerStandInOptions>('HetznerStandIn', 'options', options, {
      dir: is.optional(is.text("pass a directory such as fs.mkdtempSync(path.join(os.tmpdir(), 'standin-'))")),
      reattach: is.optional(is.boolean()),
    }, orNothing('pass { dir, reattach }'));
    this.dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hcloud-standin-'));
    fs.mkdirSync(this.dir, { recursive: true });
    this.reattach = options.reattach ?? true;
    // Reattached, init installs no hcloud; launched, it does: the two never share a template.
    this.initTemplatesDir = path.join(this.dir, 'init-templates', this.reattach ? 'reattach' : 'launched');
    const { cliConfigFile, mirrorDir } = installStandIn(this.dir);
    this.cliConfigFile = cliConfigFile;
    this.mirrorDir = mirrorDir;
  }

  /**
   * The environment for a Terraform (or cdktf) command against the stand-in: the CLI
   * configuration, no checkpoint calls, no prompts, the simulated project as HCLOUD_ENDPOINT,
   * {@link STAND_IN_TOKEN} as HCLOUD_TOKEN (in place of any real token the process holds: the
   * stand-in never needs one), no shared plugin cache (which cdktf would otherwise set: see
   * {@link installStandIn}), and in reattach mode the running plugin in TF_REATTACH_PROVIDERS.
   */
  public env(cloudFile?: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...standInEnvironment(this.cliConfigFile),
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
    };
    delete env.TF_REATTACH_PROVIDERS;
    if (cloudFile) env.HCLOUD_ENDPOINT = pathToFileURL(path.resolve(cloudFile)).href;
    if (this.reattach) env.TF_REATTACH_PROVIDERS = this.runningDaemon().reattachProviders;
    return env;
  }

  /** A new working directory holding `stack`, with a local state and its own (or a shared) project. */
  public workspace(stack: StackSource, options: WorkspaceOptions = {}): StandInWorkspace {
    // A misspelt cloudFile gave the workspace a project of its own: stacks meant to share one did not see each other.
    checkOptions<WorkspaceOptions>('HetznerStandIn.workspace', 'options', options, {
      name: is.optional(is.text("name the directory, such as 'acme-production'")),
      cloudFile: is.optional(is.text("pass the cloud file another workspace uses, such as other.cloudFile")),
    }, orNothing('pass { name, cloudFile }'));
    const name = (options.name ?? (stack instanceof TerraformStack ? stack.node.id : 'stack')).replace(/[^A-Za-z0-9_.-]/g, '-');
    const dir = path.join(this.dir, 'workspaces', `${name}-${process.pid}-${++counter}`);
    const cloudFile = options.cloudFile ?? path.join(dir, 'hcloud-standin.cloud.json');
    return new StandInWorkspace(this, dir, cloudFile).setConfiguration(stackJson(stack));
  }

  /** Stops the plugin daemon, if one runs. The directory stays for inspection unless `removeFiles`. */
  public stop(removeFiles = false): void {
    this.daemon?.stop();
    this.daemon = undefined;
    if (removeFiles) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private runningDaemon(): ReattachDaemon {
    if (!this.daemon || !this.daemon.alive) this.daemon = ReattachDaemon.start();
    return this.daemon;
  }
}

/** The synthesized JSON of a stack source. */
export function stackJson(stack: StackSource): Record<string, unknown> {
  // isStack, not instanceof: a stack built with the app's own copy of cdktf is a stack too (instanceof would pass the construct on as its JSON).
  if (TerraformStack.isStack(stack)) return JSON.parse(Testing.synth(stack, true));
  if (typeof stack === 'string') {
    // A directory not synthesized yet, or a file a synth cut short, named with the fix (fs and JSON.parse name neither).
    const file = fs.existsSync(stack) && fs.statSync(stack).isDirectory() ? path.join(stack, 'cdk.tf.json') : stack;
    return readJsonFile(file, 'synthesize the app first (npx cdktf synth), or pass the TerraformStack itself');
  }
  if (stack === null || typeof stack !== 'object' || Array.isArray(stack) || 'node' in stack) {
    fail('stackJson', 'stack', stack === null || typeof stack !== 'object' || Array.isArray(stack) ? stack : '<a construct>',
      'it is not a stack, a synthesized stack directory or file, or its JSON', 'pass the TerraformStack, its cdktf.out/stacks/<name> directory, or the parsed cdk.tf.json');
  }
  return stack;
}
