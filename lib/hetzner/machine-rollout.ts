import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { Fn, ITerraformDependable, Lazy, TerraformResource, TerraformVariable } from 'cdktf';
import { Duration } from '../core/duration';
import { TerraformData } from '../core/private/terraform-data';
import { Port } from '../core/port';
import { aType, checkProps, fail, is, leaveOutFix } from '../core/runtime-checks';
import { BundleFiles, MachineBundle, RenderedBundle } from './machine-bundle';
import { ROLLOUT_AGENT, ROLLOUT_STATE_DIR } from './private/rollout-agent';
import { validateRolloutOptions } from './private/rollout-options';
import { escapeTemplateSequences, resolveTemplate } from './private/terraform-template';
import { readableSecretFiles } from './private/readable-secret-files';
import { recordBuilt } from './private/synthesized-argument';
import { guardStack } from '../core/private/guard-stack';
import { ROLLOUT_STEP_SCRIPT } from './private/rollout-step-script';

/** How `cdktf deploy` reaches a machine to roll its bundle out. */
export interface MachineRolloutOptions {
  /**
   * The private key of an admin SSH key, from a sensitive variable (set with `TF_VAR_…`).
   * @default - the SSH agent of the process running Terraform (`SSH_AUTH_SOCK`), so no key passes through Terraform
   */
  readonly sshPrivateKey?: TerraformVariable;
  /**
   * The machine's SSH host public key (`ssh-ed25519 AAAA…`), which Terraform then requires: a changed
   * host key fails the deploy instead of handing the bundle (and its secrets) to another host.
   * @default - not pinned: Terraform checks no host key at all (synth warns in production)
   */
  readonly hostKey?: string;
  /**
   * The SSH port of the machine's sshd: one port, such as `Port.of(2222)`. A plain number is
   * accepted too, for JavaScript callers and existing code.
   * @default Port.of(22)
   */
  readonly port?: Port | number;
  /**
   * How long Terraform keeps trying to connect (a new server needs a minute to boot).
   * @default Duration.minutes(5)
   */
  readonly connectTimeout?: Duration;
}

/** Where a rollout's files land on the machine before the agent takes them; root-only, removed after. */
const INCOMING = `${ROLLOUT_STATE_DIR}/incoming`;
const TOKEN = /\$\{TfToken\[[^\]]+\]\}/g;
/**
 * A trigger of every rollout: a library version whose agent changed, and nothing of the bundle, rolls out once, so the
 * machine runs the new agent and keeps it (`sovereign-rollout status`).
 */
const AGENT_VERSION = `sha256:${createHash('sha256').update(ROLLOUT_AGENT).digest('hex')}`;

/**
 * Delivers a machine's bundle on every deploy that changes it, without touching the server: a
 * `terraform_data` resource keyed on the bundle's version, a digest of its deploy-time inputs (secrets,
 * addresses), the server's image and the agent's version. When one changes, Terraform replaces this
 * resource (not the server) and its provisioners copy the agent, the bundle and the inputs over SSH and run the agent, which
 * checks, stages, switches and activates, or leaves the previous version running and fails the deploy.
 *
 * The plan says what changes in plain words: `triggers_replace.bundle` goes from one
 * `sha256:` version to the next, `triggers_replace.inputs` shows as a changed sensitive value when a
 * secret is rotated, `triggers_replace.image` when the server's disk was rebuilt from another image, and
 * `triggers_replace.agent` when a library version brings another rollout agent.
 */
export class MachineRollout extends Construct {
  /** The `terraform_data` resource whose provisioners roll the bundle out. */
  public readonly resource: TerraformResource;
  private readonly renderBundle: () => RenderedBundle;

  constructor(scope: Construct, id: string, props: {
    /** The bundle rolled out. */
    readonly bundle: MachineBundle;
    /** The address SSH connects to. */
    readonly host: string;
    /** What must exist before the first rollout (the server, its firewall). */
    readonly dependsOn: ITerraformDependable[];
    /**
     * The image the server's disk was last built from: the server's `image` attribute, which Hetzner changes when
     * the disk is rebuilt from a backup or snapshot outside Terraform. Such a disk holds the bundle of the day the
     * image was taken while the server keeps its id, so the rollout is keyed on it too and the next deploy (and the
     * drift check's plan) rolls the bundle out again.
     * @default - not watched: a disk rebuilt outside Terraform keeps its older bundle until the bundle changes
     */
    readonly image?: string;
    /**
     * How the rollout connects.
     * @default - each field's own default (the SSH agent, port 22, no pinned host key, 5 minutes to connect)
     */
    readonly options?: MachineRolloutOptions;
  }) {
    super(scope, id);
    guardStack(this);
    // Machine builds its rollout; a JavaScript caller building one directly gets path, value and fix, not a TypeError at synth.
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps(this, props, {
      bundle: is.instance(MachineBundle, "pass the machine's bundle (machine.bundle)"),
      host: is.text("pass the address SSH reaches, such as the server's IPv4 address"),
      dependsOn: is.list(isDependable, 'list what must exist before the first rollout, such as [server], or pass []'),
      image: is.optional(is.text(leaveOutFix("pass the server's image attribute (server.image), or leave it out"))),
      options: is.optional(is.object<MachineRolloutOptions>({ sshPrivateKey: is.checkedLater(), hostKey: is.checkedLater(), port: is.checkedLater(), connectTimeout: is.checkedLater() },
        leaveOutFix('pass { connectTimeout: Duration.minutes(5) } or leave it out'))),
    }, 'pass { bundle, host, dependsOn }');
    const options = props.options ?? {};
    // Named as this rollout's own options when built directly; built by a Machine, the machine checked the same options
    // already (and its key is not checked twice).
    validateRolloutOptions(this, 'options', options, scope);
    // One snapshot of the bundle per revision feeds all three producers (the version, the inputs
    // document and its digest): each file's content is produced once per synth, and the three can
    // never disagree about what the bundle holds.
    // The inputs document and its digest are kept with it too: each builds a Terraform function call per reference, and
    // cdktf records a full stack trace for every one it creates, so building them again at each of the many resolutions
    // of a synth (the checks, the documents, the written stack) was most of a large product's synth time.
    let snapshot: { revision: number; files: BundleFiles; rendered?: RenderedBundle; inputs?: string; inputsDigest?: string } | undefined;
    const current = () => {
      if (snapshot?.revision !== props.bundle.revision) snapshot = { revision: props.bundle.revision, files: props.bundle.files() };
      return snapshot;
    };
    const render = () => {
      const s = current();
      s.rendered ??= props.bundle.renderFiles(s.files, (text) => resolveTemplate(this, text));
      return s.rendered;
    };
    this.renderBundle = render;
    this.node.addValidation({ validate: () => readableSecretFiles(scope, current().files, render()) });
    const version = () => render().version;
    const incoming = () => `${INCOMING}/${version().slice('sha256:'.length, 'sha256:'.length + 16)}`;
    const inputs = Lazy.stringValue({ produce: () => {
      const s = current();
      s.inputs ??= inputsDocument(s.files);
      return s.inputs;
    } });

    this.resource = new TerraformData(this, 'Resource', {
      triggersReplace: {
        bundle: Lazy.stringValue({ produce: version }),
        inputs: Lazy.stringValue({ produce: () => {
          const s = current();
          s.inputsDigest ??= inputsDigest(s.files);
          return s.inputsDigest;
        } }),
        ...(props.image === undefined ? {} : { image: props.image }),
        agent: AGENT_VERSION,
      },
      dependsOn: props.dependsOn,
      connection: {
        type: 'ssh',
        host: props.host,
        user: 'root',
        port: options.port === undefined ? 22 : Port.parse(options.port).from,
        timeout: `${(options.connectTimeout ?? Duration.minutes(5)).toSeconds()}s`,
        scriptPath: ROLLOUT_STEP_SCRIPT,
        ...(options.sshPrivateKey ? { privateKey: options.sshPrivateKey.stringValue } : {}),
        ...(options.hostKey ? { hostKey: options.hostKey.trim() } : {}),
      },
      provisioners: [
        // Terraform's file uploads (scp -t <directory>) write a file *named* <directory> when the directory is
        // missing, mode 0644: a leftover at this path (from an upload whose directory went away) goes first, and
        // the directories above are root's alone (install -d made them 0755), so the inputs are never readable
        // by other users, wherever they land.
        { type: 'remote-exec', inline: [Lazy.stringValue({ produce: () => `rm -rf ${incoming()} && install -d -m 0700 ${ROLLOUT_STATE_DIR} ${INCOMING} ${incoming()}` })] },
        { type: 'file', content: escapeTemplateSequences(ROLLOUT_AGENT), destination: Lazy.stringValue({ produce: () => `${incoming()}/sovereign-rollout` }) },
        { type: 'file', content: Lazy.stringValue({ produce: () => render().payload }), destination: Lazy.stringValue({ produce: () => `${incoming()}/bundle.gz.b64` }) },
        { type: 'file', content: inputs, destination: Lazy.stringValue({ produce: () => `${incoming()}/inputs.json` }) },
        {
          type: 'remote-exec',
          inline: [Lazy.stringValue({ produce: () => `python3 ${incoming()}/sovereign-rollout apply --version ${version()} --dir ${incoming()}` })],
        },
      ],
    });
    // What the allowlist-delivery check holds the written rollout against (the bundle reaches it through the Lazy values above).
    recordBuilt(this.resource);
  }

  /** The bundle as it renders now (after synth: as synthesized). */
  public get bundle(): RenderedBundle {
    return this.renderBundle();
  }
}

/**
 * The deploy-time contents as one JSON document that Terraform renders: literal text is escaped at
 * synth, and every reference goes through `jsonencode`, so any value (quotes, newlines) stays valid JSON.
 */
function inputsDocument(files: BundleFiles): string {
  const entries = [...files].filter(([, f]) => isDeployTime(f.content)).map(([path, f]) => {
    const pieces: string[] = [];
    let last = 0;
    for (const match of f.content.matchAll(TOKEN)) {
      pieces.push(jsonText(f.content.slice(last, match.index)));
      pieces.push(Fn.replace(Fn.jsonencode(match[0]), Fn.rawString('/^"|"$/'), ''));
      last = match.index! + match[0].length;
    }
    pieces.push(jsonText(f.content.slice(last)));
    return `${JSON.stringify(path)}:"${pieces.join('')}"`;
  });
  return `{${entries.join(',')}}\n`;
}

/**
 * What replaces the rollout when a deploy-time value changes: a digest of the referenced values. It stays
 * as sensitive as they are, so the plan says `~ inputs = (sensitive value)` (only when it changed) and
 * neither the plan nor the state's readable attributes carry it: an unsalted hash of a password (with
 * the server id, which the plan shows beside it) is a password that can be guessed offline.
 * The literal text around the references is in the bundle version.
 */
function inputsDigest(files: BundleFiles): string {
  const references = [...files.values()].flatMap((f) => f.content.match(TOKEN) ?? []);
  if (references.length === 0) return 'none';
  return `sha256:${Fn.sha256(Fn.join('\n', references))}`;
}

/** A resource or module Terraform can depend on (it has a fully qualified name). */
function isDependable(at: Parameters<typeof fail>[0], prop: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || typeof (value as Partial<ITerraformDependable>).fqn !== 'string') {
    fail(at, prop, value, `it is ${aType(value)}, not a Terraform resource or module`, 'list resources such as the server, or pass []');
  }
}

function isDeployTime(content: string): boolean {
  return content.match(TOKEN) !== null;
}

function jsonText(literal: string): string {
  return escapeTemplateSequences(JSON.stringify(literal).slice(1, -1));
}
