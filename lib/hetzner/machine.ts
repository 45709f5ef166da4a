import { Construct, IConstruct } from 'constructs';
import * as ipaddr from 'ipaddr.js';
import { Annotations, Lazy, TerraformStack, Token } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { PrimaryIp } from '../../generated/providers/hcloud/primary-ip';
import { Server } from '../../generated/providers/hcloud/server';
import { reachStackOf } from '../core/app-level-packs';
import { checkFirewallsPerAccount } from './private/firewalls-per-account';
import { checkUniquePerProject } from './private/project-uniqueness';
import { blockText, cidrFix, cidrProblem, coversWholeInternet, isAnywhere, isIpv6Block } from '../core/cidr';
import { Peer } from '../core/peer';
import { DataClass } from '../core/data-class';
import { Environment } from '../core/environment';
import { Retirement } from '../core/retirement';
import { TerraformData } from '../core/private/terraform-data';
import { warnOnce } from '../core/private/warn-once';
import { labelValueProblem } from '../core/labels';
import {
  fail, optionalArray, optionalBoolean, optionalInstance, optionalString, optionalStringMap, propNames, refuseUnknownProps, requireInstance, requireProps, requireString,
} from '../core/runtime-checks';
import { invalidValue, missingValue, ValidationError } from '../core/validation-message';
import { carriedContent, CloudInit, CloudInitPart, USER_DATA_LIMIT_BYTES } from './cloud-init';
import { BundlePart, MachineBundle } from './machine-bundle';
import { MachineRollout, MachineRolloutOptions } from './machine-rollout';
import { checkRolloutOptions } from './private/rollout-options';
import { adminKeysPart, checkPlainKeys } from './private/admin-keys-part';
import { attachmentConflicts } from './private/attachment-conflicts';
import { BLOCKS_PER_RULE, firewallLimitProblems } from './private/firewall-limits';
import { checkPartShape, refuseCommandReferences } from './private/part-checks';
import { identityPart } from './private/machine-identity';
import { privateAddressOf } from './private/private-address';
import { recordBuilt } from './private/synthesized-argument';
import { privateIngressPart } from './private/private-ingress-table';
import { escapeTemplateSequences, resolveTemplate } from './private/terraform-template';
import { FirewallDirection, FirewallRule } from './firewall-rule';
import { Location } from './location';
import { IPrivateNetwork } from './private-network';
import { labelErrors, standardLabels, withUserLabels } from './private/standard-labels';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { ServerType } from './server-type';
import { ISshKey } from './ssh-key';
import { guardStack } from '../core/private/guard-stack';

/**
 * A machine as the constructs that build on one refer to it (volumes, databases, backups,
 * monitoring): what they read of it and add to it. `Machine` is the only implementation; a construct
 * that takes an `IMachine` checks at runtime that it is one (`Machine.isMachine`), so that no
 * stand-in object skips what `Machine` enforces.
 */
export interface IMachine extends IConstruct {
  /** The `hcloud_server` resource. */
  readonly server: Server;
  /** The server's name in the Hetzner project. */
  readonly serverName: string;
  /** The environment the machine serves. */
  readonly environment: Environment;
  /** What the machine does, such as `app`. */
  readonly role: string;
  /** Where the server runs. */
  readonly location: Location;
  /** The server type. */
  readonly serverType: ServerType;
  /** The data classes the machine holds or processes. */
  readonly dataClasses: readonly DataClass[];
  /** The machine's public IPv4 address, a primary IP that survives a replacement; none when built with `publicIpv4: false`. */
  readonly ipv4?: PrimaryIp;
  /**
   * The machine's public IPv6 network (a /64), a primary IP that survives a replacement. Its `ipAddress`
   * is the start of the network (`2a01:4f8:…::`), not an address the server answers on: that is
   * `server.ipv6Address`, the first address after it (`…::1`).
   */
  readonly ipv6: PrimaryIp;
  /** What the machine runs besides its OS, rolled out on every deploy that changes it. */
  readonly bundle: MachineBundle;
  /** The inbound rules of the machine's firewall, SSH included. */
  readonly ingressRules: readonly FirewallRule[];
  /** The outbound rules of the machine's firewall; empty means all egress is allowed. */
  readonly egressRules: readonly FirewallRule[];
  /** Adds a piece of on-machine tooling to the machine's bundle. */
  addBundlePart(part: BundlePart): void;
  /** Allows more inbound traffic through the machine's firewall. */
  allowInbound(rule: FirewallRule): void;
  /** Allows outbound traffic; the first outbound rule turns egress from allow-all into deny-by-default. */
  allowOutbound(rule: FirewallRule): void;
}

/** The size of a machine's user data as Terraform will send it. */
export interface UserDataSize {
  /** Bytes, each reference counted at its realistic size. */
  readonly bytes: number;
  /** The Terraform references in it, whose values are known only at apply. */
  readonly references: number;
}

/** Marks machines across copies of the library, as cdktf marks its stacks. */
const MACHINE_SYMBOL = Symbol.for('cdktf-sovereign-hetzner/Machine');

/** What a machine is made of: its environment, role, server type and how it is reached. */
export interface MachineProps {
  /** The environment the machine serves; production machines are protected against loss. */
  readonly environment: Environment;
  /** What the machine does, such as `app`; used in its name and labels. */
  readonly role: string;
  /** Server type. A type Hetzner no longer sells in the location is a warning that names its successor. */
  readonly serverType: ServerType;
  /**
   * Where the server runs. Outside the EU only a machine that holds nothing but
   * `DataClass.PUBLIC` data is allowed.
   * @default Location.FSN1
   */
  readonly location?: Location;
  /**
   * The data classes the machine holds or processes; they become labels and decide where it may run.
   * @default [DataClass.SENSITIVE] - an undeclared machine is treated as holding tenant data
   */
  readonly dataClasses?: DataClass[];
  /**
   * SSH keys root can log in with. Without keys Hetzner e-mails a root password.
   * @default - none; a production machine fails synth without one, others get a warning
   */
  readonly sshKeys?: ISshKey[];
  /**
   * IP blocks allowed to reach SSH (TCP 22), as `Peer`s or CIDR text, such as
   * `[Peer.ipv4('203.0.113.0/24')]`. Never the whole internet.
   * @default - no SSH ingress; a production machine fails synth without one
   */
  readonly adminCidrs?: Array<Peer | string>;
  /**
   * Further inbound rules, such as `FirewallRule.httpsFromAnywhere()`.
   * @default - none: only SSH from `adminCidrs` gets in
   */
  readonly ingress?: FirewallRule[];
  /**
   * Outbound rules. Hetzner allows all egress while a firewall has no outbound rule, and
   * denies everything not allowed as soon as it has one.
   * @default - none: all egress allowed (the data boundary restricts it for machines holding sensitive data)
   */
  readonly egress?: FirewallRule[];
  /**
   * Whether the machine has a public IPv4 address (a primary IP Hetzner bills, €0.50 a month). Without
   * one it is reached over IPv6 alone: its IPv6 /64 is always there (free), the rollout connects to
   * it, and `adminCidrs` must then name an IPv6 block. It reaches only hosts that publish an IPv6
   * address (AAAA): Debian's mirrors (deb.debian.org, security.debian.org), the Storage Box and Hetzner's resolvers do,
   * github.com and ghcr.io do not (synth warns when the machine's files name them).
   * @default true
   */
  readonly publicIpv4?: boolean;
  /**
   * A private network to join, through its subnet.
   * @default - no private network
   */
  readonly privateNetwork?: IPrivateNetwork;
  /**
   * The machine's address in the private network.
   * @default - Hetzner picks one from the subnet
   */
  readonly privateIp?: string;
  /**
   * The OS image.
   * @default 'debian-12' - the release the library's on-machine tooling is tested on
   */
  readonly image?: string;
  /**
   * Server name, unique in the Hetzner project.
   * @default `${environment}-${role}`
   */
  readonly name?: string;
  /**
   * Hetzner's daily server backups (7 slots, volumes not included). They are a fast
   * restore layer, not the backup strategy.
   * @default - true in production, false elsewhere
   */
  readonly hetznerBackups?: boolean;
  /**
   * How `cdktf deploy` reaches the machine to roll out its bundle (backup jobs, monitoring, egress
   * allowlist…) on every deploy that changes it.
   * @default - root over SSH on port 22 with the deploying process's SSH agent, host key not pinned
   */
  readonly rollout?: MachineRolloutOptions;
  /**
   * Extra labels.
   * @default - only the standard labels (managed-by, environment, role, data classes)
   */
  readonly labels?: Record<string, string>;
}

const SERVER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Hosts without an IPv6 address (no AAAA record), which an IPv6-only machine cannot reach (hetzner-pitfalls #24). */
const IPV4_ONLY_HOSTS = /\b(?:(?:[a-z0-9-]+\.)*github\.com|ghcr\.io)\b/gi;
const SSH_PORT = 22;
/**
 * What one Terraform reference in user data counts for when its size is checked: the value is only
 * known at apply, and secrets, URLs and host names stay below this.
 * @internal
 */
export const USER_DATA_REFERENCE_BYTES = 256;
/** The first-boot document of a machine with a bundle: only what the rollout agent needs. */
const BOOTSTRAP_PART: CloudInitPart = { name: 'sovereign bootstrap (the tooling arrives as a bundle over SSH)', packages: ['python3'] };

/**
 * A Hetzner Cloud server with its firewall, fixed IP addresses, labels and cloud-init.
 *
 * Secure by default:
 * - its own firewall is attached at creation (`firewall_ids`), so it never boots unfiltered;
 *   SSH is open only to `adminCidrs`, never to the whole internet;
 * - its IPv4 and IPv6 addresses are separate primary IPs that survive a replacement;
 * - `keep_disk` is set, so a rescale can be undone; shutdown is graceful before deletion;
 * - a server type of another architecture (x86 ↔ Arm), which no rescale can reach, replaces the server
 *   instead of powering it off for a refused rescale (production refuses the replacement at plan);
 * - nothing else attaches a firewall or a network to the server: it would be undone on the next apply;
 * - in production it is delete- and rebuild-protected, has `prevent_destroy`, Hetzner
 *   backups on, and ignores changes to `user_data`, `image` and `ssh_keys`, each of which
 *   would otherwise replace the server and wipe its disk.
 */
export class Machine extends Construct implements IMachine {
  /** Whether `x` is a `Machine` (also one built by another copy of this library). */
  public static isMachine(x: unknown): x is Machine {
    return x !== null && typeof x === 'object' && MACHINE_SYMBOL in x;
  }

  /** The `hcloud_server` resource. */
  public readonly server: Server;
  /** The machine's own firewall, attached at creation. */
  public readonly firewall: Firewall;
  /** The machine's public IPv4 address, a primary IP that survives a replacement; none when built with `publicIpv4: false`. */
  public readonly ipv4?: PrimaryIp;
  /**
   * The machine's public IPv6 network (a /64), a primary IP that survives a replacement. Its `ipAddress`
   * is the start of the network (`2a01:4f8:…::`), not an address the server answers on: that is
   * `server.ipv6Address`, the first address after it (`…::1`).
   */
  public readonly ipv6: PrimaryIp;
  /** The environment the machine serves. */
  public readonly environment: Environment;
  /** What the machine does, such as `app`. */
  public readonly role: string;
  /** Where the server runs. */
  public readonly location: Location;
  /** The server type. */
  public readonly serverType: ServerType;
  /** The data classes the machine holds or processes (`DataClass.SENSITIVE` when none were declared). */
  public readonly dataClasses: readonly DataClass[];
  /** The server's name in the Hetzner project. */
  public readonly serverName: string;
  /** The machine's first-boot cloud-init; add parts with `addCloudInitPart`. */
  public readonly cloudInit = new CloudInit(`${this.node.path}.cloudInit`);
  /** What the machine runs besides its OS, delivered on every deploy; add parts with `addBundlePart`. */
  public readonly bundle: MachineBundle;
  private rolloutConstruct?: MachineRollout;
  /** What replaces the server when its architecture changes (x86 ↔ Arm), which no in-place rescale can do. */
  private readonly architectureMarker: TerraformData;
  private readonly rolloutOptions?: MachineRolloutOptions;
  private readonly sshKeys: readonly ISshKey[];
  /** The valid admin networks as CIDR text, which the SSH rules admit (validation reports the invalid ones). */
  private readonly validAdminCidrs: readonly string[];

  private readonly inboundRules: FirewallRule[] = [];
  private readonly outboundRules: FirewallRule[] = [];

  /** Creates the server, its firewall and its addresses; fails on props Hetzner or the operating model refuse. */
  constructor(scope: Construct, id: string, props: MachineProps) {
    super(scope, id);
    guardStack(this);
    Object.defineProperty(this, MACHINE_SYMBOL, { value: true });
    // Copied first, each prop read once, then checked and kept: a JavaScript getter could otherwise answer the check
    // with one value and the build (or a synth-time check) with another, and the caller's lists stay editable.
    props = frozenSnapshot(props, MACHINE_PROPS);
    checkMachineProps(this, props);
    if (props.rollout !== undefined) checkRolloutOptions(this, props.rollout);
    // Rule packs added to the App reach this machine's stack (cdktf 0.21 does not invoke App-level aspects).
    reachStackOf(this);
    this.environment = props.environment;
    this.role = props.role;
    this.location = props.location ?? Location.FSN1;
    this.serverType = props.serverType;
    this.dataClasses = props.dataClasses && props.dataClasses.length > 0 ? [...new Set(props.dataClasses)] : [DataClass.SENSITIVE];
    // A stack declared public above a machine left at its default: the generic refusal named classes the caller never wrote.
    if (!props.dataClasses?.length) refuseDefaultLeavingOutDeclaredClass(this);
    // The boundary rules read what the machine holds from here, not only from labels a raw override could change.
    DataClass.declare(this, this.dataClasses);
    this.serverName = props.name ?? `${props.environment.name}-${props.role}`;
    this.bundle = new MachineBundle(this.serverName, `${this.node.path}.bundle`);
    this.rolloutOptions = props.rollout;
    // Retiring lifts delete protection and prevent_destroy; what would replace the server stays ignored.
    const isProtected = Retirement.keepsProtection(scope, props.environment.protectedFromLoss);
    const isProduction = props.environment.protectedFromLoss;
    // One form from here on: CIDR text (a Peer as its toString()), read by the rule and by the validation alike.
    const adminCidrs = (props.adminCidrs ?? []).map((c) => blockText(c) as string);
    const sshKeys = props.sshKeys ?? [];
    this.sshKeys = sshKeys;
    // Here, not with the bundle's authorized_keys: a machine with no bundle is created with the key too.
    checkPlainKeys(this, sshKeys);

    const labels = withUserLabels(this.node.path, props.environment,
      standardLabels({ environment: props.environment, role: props.role, dataClasses: this.dataClasses }), props.labels);

    // Invalid blocks are reported by the validation with this machine's path; the rule takes the valid ones.
    const validAdminCidrs = adminCidrs.filter((c) => cidrProblem(c) === undefined);
    this.validAdminCidrs = validAdminCidrs;
    // Hetzner takes at most 100 blocks in a rule: a team with more admin networks gets one SSH rule per hundred.
    const adminSsh = chunks(validAdminCidrs, BLOCKS_PER_RULE).map((blocks, i, all) => FirewallRule.tcpIn(SSH_PORT, blocks,
      { description: all.length === 1 ? 'SSH from admin networks' : `SSH from admin networks (${i + 1} of ${all.length})` }));
    this.inboundRules.push(...adminSsh);
    this.inboundRules.push(...(props.ingress ?? []));
    this.outboundRules.push(...(props.egress ?? []));

    this.firewall = new Firewall(this, 'Firewall', {
      name: `${this.serverName}-firewall`,
      labels,
      rule: Lazy.anyValue({ produce: () => [...this.inboundRules, ...this.outboundRules].map(toTerraformRule) }),
    });

    const primaryIp = (id: string, type: 'ipv4' | 'ipv6') => new PrimaryIp(this, id, {
      name: `${this.serverName}-${type}`,
      type,
      // Created in a location, unassigned: the server's public_net assigns it. assignee_type is only
      // for an assignee_id; alone it draws hcloud's "Unused Attribute" warning (primaryip/resource.go:177).
      location: this.location.name,
      // auto_delete would tie the address to one server; it must survive a replacement.
      autoDelete: false,
      deleteProtection: isProtected,
      labels,
      lifecycle: isProtected ? { preventDestroy: true } : undefined,
    });
    // Without a primary IPv4 (publicIpv4: false), Hetzner creates none either: ipv4_enabled is false.
    this.ipv4 = (props.publicIpv4 ?? true) ? primaryIp('Ipv4', 'ipv4') : undefined;
    this.ipv6 = primaryIp('Ipv6', 'ipv6');

    this.server = new Server(this, 'Resource', {
      name: this.serverName,
      serverType: props.serverType.name,
      image: props.image ?? 'debian-12',
      location: this.location.name,
      labels,
      sshKeys: sshKeys.map((k) => k.sshKeyReference),
      firewallIds: [Token.asNumber(this.firewall.id)],
      publicNet: [{
        ipv4Enabled: this.ipv4 !== undefined,
        ipv4: this.ipv4 ? Token.asNumber(this.ipv4.id) : undefined,
        ipv6Enabled: true,
        ipv6: Token.asNumber(this.ipv6.id),
      }],
      network: props.privateNetwork ? [{
        subnetId: props.privateNetwork.subnetId,
        ip: props.privateIp,
        // Without an explicit empty list, Terraform >= 1.4 detaches and re-attaches the network on every apply.
        aliasIps: [],
      }] : undefined,
      dependsOn: props.privateNetwork ? [props.privateNetwork.attachmentDependency] : undefined,
      userData: Lazy.stringValue({ produce: () => this.userData() }),
      backups: props.hetznerBackups ?? isProduction,
      keepDisk: true,
      // A graceful shutdown before deletion, except where deletion is refused: the provider shuts the
      // server down before the API refuses to delete a protected one, which would leave production off.
      shutdownBeforeDeletion: !isProtected,
      deleteProtection: isProtected,
      rebuildProtection: isProtected,
      // Each of these would replace the server and wipe its disk (the test database too). Keys reach running
      // machines through the bundle, user data is first boot only; an image change outside production is a
      // deliberate rebuild (staging from a newer snapshot), so it still replaces.
      lifecycle: isProduction
        ? { preventDestroy: isProtected, ignoreChanges: ['user_data', 'image', 'ssh_keys'] }
        : { ignoreChanges: ['user_data', 'ssh_keys'] },
    });
    // Its server, firewall and addresses are named once per Hetzner project, which other stacks of the App may share;
    // their namesakes in this stack (another machine of this name) the name check in validate reports.
    checkUniquePerProject(this, [this.server, this.firewall, ...(this.ipv4 ? [this.ipv4] : []), this.ipv6]);
    // Its firewall counts against the 50 firewalls of that project, with those of the stacks sharing it.
    checkFirewallsPerAccount(this);
    // A rescale between x86 and Arm is no rescale: hcloud powers the server off, then the API refuses the type
    // (invalid_server_type), leaving it off. Keyed on the architecture, such a change replaces the server
    // instead, which production's prevent_destroy refuses at plan, before anything is powered off.
    this.architectureMarker = new TerraformData(this, 'Architecture', {
      triggersReplace: { architecture: props.serverType.isKnown ? props.serverType.architecture : props.serverType.name },
    });
    // As its address: cdktf writes a resource given here as "${…}", which Terraform refuses in replace_triggered_by.
    const marker = `${this.architectureMarker.terraformResourceType}.${this.architectureMarker.friendlyUniqueId}`;
    this.server.lifecycle = { ...this.server.lifecycle, replaceTriggeredBy: [marker] };
    // The library changes the server no further: what the allowlist-delivery check holds its user data against.
    recordBuilt(this.server);

    // Hetzner's firewalls leave the private network open: the table loads on every machine there, bundle parts or not.
    if (props.privateNetwork) this.startBundle();

    this.node.addValidation({ validate: () => this.validate(props, labels, adminSsh, adminCidrs) });
    this.warnAboutDeprecatedType();
    if (sshKeys.length === 0 && !isProduction) {
      Annotations.of(this).addWarning(`Hetzner-NoSshKey: ${this.node.path}.sshKeys is empty, so Hetzner e-mails a root password. Fix: pass sshKeys.`);
    }
  }

  /**
   * Adds a piece of first-boot cloud-init (packages, files, commands). It runs once, when the server
   * is created, and a production server never sees a change to it: put what must stay current in
   * the bundle instead (`addBundlePart`).
   */
  public addCloudInitPart(part: CloudInitPart): void {
    checkPartShape(`${this.node.path}.cloudInit`, 'cloudInit', part);
    this.refuseTakenPartName('cloudInit', this.cloudInit.partNames, part?.name);
    this.cloudInit.addPart(part);
  }

  /** MachineBundle and CloudInit refuse a second part of one name too; this names the machine's own parts in the message. */
  private refuseTakenPartName(prop: 'bundle' | 'cloudInit', names: readonly string[], name: string): void {
    if (!names.includes(name)) return;
    throw new ValidationError(invalidValue(this, `${prop}.part.name`, name,
      `the machine's ${prop === 'bundle' ? 'bundle' : 'cloud-init document'} has a part of that name already (${names.map((n) => `'${n}'`).join(', ')})`, 'give each part its own name'));
  }

  /**
   * Adds a piece of on-machine tooling to the machine's bundle, which every deploy that changes it
   * rolls out to the running machine (checked, staged, switched, and rolled back on failure).
   */
  public addBundlePart(part: BundlePart): void {
    checkPartShape(`${this.node.path}.bundle`, 'bundle', part);
    // The agent reads a mode as an octal string: anything else (a JavaScript number, 'rw-------') passed synth and failed the deploy.
    for (const file of part?.files ?? []) {
      if (file?.permissions !== undefined && !(typeof file.permissions === 'string' && /^[0-7]{3,4}$/.test(file.permissions))) {
        throw new ValidationError(invalidValue(this, `bundle file ${file.path} (part ${part.name}).permissions`, file.permissions,
          'a mode is written as an octal string of three or four digits', "write it as a string, such as '0600' or '0644'"));
      }
    }
    // Refused before the machine's own parts are added: it does not depend on them.
    refuseCommandReferences(`${this.node.path}.bundle`, part);
    this.startBundle();
    this.refuseTakenPartName('bundle', this.bundle.partNames, part?.name);
    this.bundle.addPart(part);
  }

  /**
   * The machine's own parts and the rollout that delivers them, once: with the first part added, or at creation for
   * a machine in a private network, whose ingress table must load whether or not anything else runs there.
   */
  private startBundle(): void {
    if (this.rolloutConstruct) return;
    // Every machine with a bundle checks that its jobs run on the server they were built for.
    this.bundle.addPart(identityPart(this, this.server.id));
    this.addAdminKeysPart();
    // In a private network, which Hetzner's firewalls do not filter: only the declared peers reach the private address.
    if (privateAddressOf(this) !== undefined) this.bundle.addPart(privateIngressPart(this));
    this.warnIfHostKeyUnpinned();
    // Created with the machine's own parts, so that a part the bundle refuses next leaves a bundle that rolls out.
    this.rolloutConstruct = new MachineRollout(this, 'Rollout', {
      bundle: this.bundle,
      host: this.rolloutHost(),
      dependsOn: [this.server],
      image: this.server.image,
      options: this.rolloutOptions,
    });
  }

  /**
   * Where the rollout connects: over IPv4 while an admin network is IPv4, over IPv6 when the machine has no IPv4
   * or every admin network is IPv6 (the firewall then admits SSH over IPv6 alone, and the deploy would wait on an
   * IPv4 address that never answers). Over IPv6 it is the server's own address (…::1): its primary IP's
   * ip_address is the start of the /64, where the server does not answer.
   */
  private rolloutHost(): string {
    const overIpv6 = !this.ipv4 || (this.validAdminCidrs.length > 0 && this.validAdminCidrs.every(isIpv6Block));
    return overIpv6 ? this.server.ipv6Address : this.ipv4!.ipAddress;
  }

  /** Keeps root's authorized_keys equal to sshKeys, which Hetzner applies only at creation. */
  private addAdminKeysPart(): void {
    const part = adminKeysPart(this, this.sshKeys);
    if (part) {
      this.bundle.addPart(part);
    } else if (this.sshKeys.length > 0) {
      Annotations.of(this).addWarning(`Hetzner-AdminKeysNotRolledOut: ${this.node.path}.sshKeys has a key given by name (SshKey.fromName), `
        + "whose text this app does not know, so root's authorized_keys on the running server is never updated: a key removed from sshKeys "
        + 'stays on the server. Fix: register the keys in this app with new SshKey(this, id, { name, publicKey }).');
    }
  }

  /** Production's rollouts carry its secrets: without a pinned host key Terraform checks none, on every deploy. */
  private warnIfHostKeyUnpinned(): void {
    if (!this.environment.protectedFromLoss || this.rolloutOptions?.hostKey) return;
    Annotations.of(this).addWarning(`Rollout-UnpinnedHostKey: ${this.node.path}'s rollouts check no SSH host key (Terraform checks none without one), `
      + `so every deploy would hand the bundle and its secrets to whatever answers on the address. ${this.pinHostKeyFix()}`);
  }

  /**
   * Warns at synth when this machine's rollouts pin no SSH host key although they carry `secrets`, secrets
   * worth more than the machine's own (the restore drill's, which read production's backups). Production
   * warns in any case.
   */
  public warnIfRolloutUnpinned(secrets: string): void {
    if (this.environment.protectedFromLoss || this.rolloutOptions?.hostKey) return;
    Annotations.of(this).addWarning(`Rollout-UnpinnedHostKey: ${this.node.path}'s rollouts carry ${secrets}, and check no SSH host key `
      + `(Terraform checks none without one), so every deploy would hand them to whatever answers on the address. ${this.pinHostKeyFix()}`);
  }

  private pinHostKeyFix(): string {
    // A server created with SSH keys has no root password, so its web console has nothing to log in with until one is
    // set: Hetzner's "Resetting the password" (docs.hetzner.com/cloud/servers/how-to-rescue/reset-password) and the
    // hcloud manual (server reset-password, server request-console).
    return "Fix: after the first deploy, read the server's /etc/ssh/ssh_host_ed25519_key.pub over a trusted path, its web console. "
      + `The server has no root password (it was created with SSH keys): set one with hcloud server reset-password ${this.serverName} `
      + `(or Rescue > Reset Root Password in the Hetzner Console), then log in as root on the console (the Hetzner Console, or hcloud server request-console ${this.serverName}). `
      + `Pin the key: rollout: { hostKey } on the Machine, or admin.hostKeys: { '${this.serverName}': 'ssh-ed25519 AAAA…' } on the Product.`;
  }

  /** The resource that rolls the bundle out, once the machine has a bundle part. */
  public get rollout(): MachineRollout | undefined {
    return this.rolloutConstruct;
  }

  /** The user data as Terraform will send it, references still as `${…}`; undefined when there is none. */
  private userData(): string | undefined {
    const document = new CloudInit(`${this.node.path}.cloudInit`);
    if (!this.bundle.isEmpty) document.addPart(BOOTSTRAP_PART);
    for (const part of this.cloudInit.parts) document.addPart(part);
    return document.isEmpty ? undefined : escapeTemplateSequences(document.render());
  }

  /** Allows more inbound traffic through the machine's firewall. */
  public allowInbound(rule: FirewallRule): void {
    requireInstance(this.node.path, 'ingress', rule, FirewallRule, 'build the rule with FirewallRule.tcpIn(…)', 'a FirewallRule');
    if (rule.direction !== FirewallDirection.IN) {
      throw new ValidationError(invalidValue(this, 'ingress', rule.description, 'it is an outbound rule', 'use allowOutbound for outbound rules'));
    }
    this.inboundRules.push(rule);
  }

  /**
   * Allows outbound traffic. The first outbound rule turns the firewall's egress from
   * allow-all into deny-by-default.
   */
  public allowOutbound(rule: FirewallRule): void {
    requireInstance(this.node.path, 'egress', rule, FirewallRule, 'build the rule with FirewallRule.tcpOut(…)', 'a FirewallRule');
    if (rule.direction !== FirewallDirection.OUT) {
      throw new ValidationError(invalidValue(this, 'egress', rule.description, 'it is an inbound rule', 'use FirewallRule.tcpOut or udpOut, or allowInbound for inbound rules'));
    }
    this.outboundRules.push(rule);
  }

  /** The inbound rules of the machine's firewall, SSH included. */
  public get ingressRules(): readonly FirewallRule[] {
    return [...this.inboundRules];
  }

  /** The outbound rules of the machine's firewall; empty means all egress is allowed. */
  public get egressRules(): readonly FirewallRule[] {
    return [...this.outboundRules];
  }

  private validate(props: MachineProps, labels: Record<string, string>, adminSsh: readonly FirewallRule[], adminCidrs: readonly string[]): string[] {
    const errors: string[] = [];
    const location = this.location;
    const type = props.serverType;
    if (props.privateIp !== undefined && Token.isUnresolved(props.privateIp)) {
      // A Lazy address is held to the literal's check once it resolves; a deploy-time one (another stack's output) Hetzner checks at apply.
      const resolved: unknown = resolveTemplate(this, props.privateIp);
      const problem = typeof resolved === 'string' && resolved.includes('${') ? undefined : privateIpProblem(resolved);
      if (problem) errors.push(invalidValue(this, 'privateIp', resolved, `${problem} (the value was given as a token)`, PRIVATE_IP_FIX));
    }
    const euFix = 'use Location.FSN1, Location.NBG1 or Location.HEL1';

    if (!location.isKnown) {
      errors.push(invalidValue(this, 'location', location.name, 'it is not a Hetzner location', euFix));
    } else if (!location.inEu && this.dataClasses.some((c) => c !== DataClass.PUBLIC)) {
      errors.push(invalidValue(this, 'location', location.name,
        `it is outside the EU, and the machine holds ${this.dataClasses.map((c) => c.name).join(', ')} data, which must stay in the EU`,
        `${euFix}, or declare dataClasses: [DataClass.PUBLIC] if it truly holds only public data`));
    }
    if (!type.isKnown) {
      errors.push(invalidValue(this, 'serverType', type.name, 'it is not a Hetzner server type',
        `use a ServerType constant such as ServerType.CX23 or ServerType.CPX22 (known: ${ServerType.all().map((t) => t.name).join(', ')})`));
    } else if (location.isKnown && !type.isOfferedIn(location)) {
      errors.push(invalidValue(this, 'serverType', type.name, `it is not offered in ${location.name} (only in ${type.locationNames.join(', ')})`,
        `pick a type offered in ${location.name}${suggestionIn(location, type)}, or another location`));
    }
    if (!SERVER_NAME.test(this.serverName)) {
      errors.push(invalidValue(this, 'name', this.serverName, 'a server name must be a lowercase RFC 1123 label of at most 63 characters',
        'use lowercase letters, digits and "-", such as "production-app"'));
    }
    // Two machines of one role take the same default name (`production-worker`), and their firewalls and addresses
    // follow it: Hetzner names each once per project, so the deploy failed with uniqueness_error part-way through.
    const machines = TerraformStack.of(this).node.findAll().filter(Machine.isMachine);
    const namesake = machines.slice(0, machines.indexOf(this)).find((m) => m.serverName === this.serverName);
    if (namesake) {
      errors.push(invalidValue(this, 'name', this.serverName, `${namesake.node.path} has this server name too, and Hetzner names a server (and its firewall and addresses) once per project, `
        + 'so the deploy would fail with uniqueness_error', `give each machine its own name, such as name: '${this.serverName}-2' (the default is \`<environment>-<role>\`)`));
    }
    if (labelValueProblem(this.role)) {
      errors.push(invalidValue(this, 'role', this.role, labelValueProblem(this.role)!, 'use a short name such as "app" or "db"'));
    }
    errors.push(...labelErrors(this, labels));

    for (const cidr of adminCidrs) {
      if (isAnywhere(cidr)) {
        errors.push(invalidValue(this, 'adminCidrs', cidr, 'SSH must never be open to the whole internet',
          'list the office or VPN blocks admins connect from, such as "203.0.113.0/24"'));
      } else if (cidrProblem(cidr)) {
        errors.push(invalidValue(this, 'adminCidrs', cidr, cidrProblem(cidr)!, cidrFix(cidr, 'write the block as address/prefix with host bits cleared, such as "203.0.113.0/24"')));
      }
    }
    // Coverage, not string comparison: 0.0.0.0/1 + 128.0.0.0/1 or ::ffff:0:0/96 is the whole internet too.
    if (!adminCidrs.some(isAnywhere) && coversWholeInternet(adminCidrs)) {
      errors.push(invalidValue(this, 'adminCidrs', adminCidrs.join(', '), 'together these blocks cover the whole internet, and SSH must never be open to it',
        'list the office or VPN blocks admins connect from, such as "203.0.113.0/24"'));
    }
    // The admin SSH rule is checked through adminCidrs above; these are the rules added on top.
    for (const rule of this.inboundRules.filter((r) => !adminSsh.includes(r))) {
      if (rule.isOpenToInternet && rule.includesPort(SSH_PORT)) {
        errors.push(invalidValue(this, 'ingress', `${rule.protocol} ${rule.port} from ${rule.peers.join(', ')}`, 'its ports include 22, so it opens SSH to the whole internet',
          'remove the rule (or narrow its ports to exclude 22) and list admin networks in adminCidrs instead'));
      }
    }

    if (this.environment.protectedFromLoss) {
      if ((props.sshKeys ?? []).length === 0) {
        errors.push(missingValue(this, 'sshKeys', 'a production machine without SSH keys gets an e-mailed root password and cannot be administered safely',
          // In a product's stack the keys are registered already: a new SshKey of the same key is refused at synth.
          'pass sshKeys: [new SshKey(...)] or [SshKey.fromName("admin")]; in a stack of ProductStacks or EnvironmentStack, the stack\'s own: '
          + '[...stack.adminSshKeys] (a new SshKey of the same key is refused at synth, Hetzner\'s uniqueness_error at deploy)'));
      }
      if ((props.adminCidrs ?? []).length === 0) {
        errors.push(missingValue(this, 'adminCidrs', 'a production machine without admin networks cannot be reached over SSH for recovery',
          'pass adminCidrs with the office or VPN blocks admins connect from, such as ["203.0.113.0/24"]'));
      }
    }

    if (props.privateNetwork && location.isKnown && props.privateNetwork.networkZone !== location.networkZone) {
      errors.push(invalidValue(this, 'location', location.name,
        `the private network's subnet is in network zone ${props.privateNetwork.networkZone}, but ${location.name} is in ${location.networkZone}`,
        'place the machine in a location of the network zone, or give it a network of its own'));
    }

    // Without a public IPv4, SSH (admins', the rollout's) arrives over IPv6 alone: IPv4 blocks admit no one.
    const validAdmin = this.validAdminCidrs;
    if (!this.ipv4 && validAdmin.length > 0 && !validAdmin.some(isIpv6Block)) {
      errors.push(invalidValue(this, 'adminCidrs', validAdmin.join(', '),
        'the machine has no public IPv4 (publicIpv4: false), so SSH reaches it over IPv6 alone, and none of these blocks is IPv6: no admin and no rollout could connect',
        "add the IPv6 blocks admins and the deploying CI connect from, such as Peer.ipv6('2001:db8:1234::/48'), or leave publicIpv4 on"));
    }
    if (!this.ipv4) {
      this.warnAboutIpv4OnlyHosts();
      this.warnAboutIpv4OnlyIngress(adminSsh);
    }
    if (this.rolloutConstruct && (props.adminCidrs ?? []).length === 0) {
      errors.push(missingValue(this, 'adminCidrs', `its bundle (${this.bundle.partNames.join(', ')}) is rolled out over SSH on every deploy, and no admin network may reach SSH`,
        'pass adminCidrs with the networks admins and the deploying CI connect from, such as ["203.0.113.0/24"]'));
    }
    // Attached at creation through firewall_ids and the inline network block only: anything else attaching breaks the second apply.
    errors.push(...attachmentConflicts({ machine: this, server: this.server, firewall: this.firewall, labels, inlineNetwork: props.privateNetwork !== undefined }));
    // Hetzner refuses a firewall with too many rules, or a server with too many firewalls, only when Terraform writes them.
    errors.push(...firewallLimitProblems({ machine: this, server: this.server, firewall: this.firewall }));
    // Content produced at synth: a reference in a compressed file would stop the rendering below.
    const compressedReferences = this.cloudInit.compressedReferenceProblems();
    errors.push(...compressedReferences);
    const size = compressedReferences.length === 0 ? this.userDataSize() : undefined;
    if (size && size.bytes > USER_DATA_LIMIT_BYTES) {
      errors.push(invalidValue(this, 'cloudInit',
        `${size.bytes} bytes as Terraform sends it (${size.references} references counted at ${USER_DATA_REFERENCE_BYTES} bytes each; parts: ${this.cloudInit.partNames.join(', ')})`,
        `Hetzner rejects user_data above ${USER_DATA_LIMIT_BYTES} bytes${largestFiles(this.cloudInit.parts)}`,
        'move files that are not needed before the first deploy into the bundle (machine.addBundlePart), which has no size limit and reaches production on every deploy; '
        + 'store a text file that must be there at first boot compressed (compress: true on the file)'));
    }
    return errors;
  }

  /**
   * The size Terraform will send: the rendered document with each reference counted at
   * USER_DATA_REFERENCE_BYTES, since cdktf's placeholders are shorter than the values.
   */
  public userDataSize(): UserDataSize | undefined {
    const text = this.userData();
    if (text === undefined) return undefined;
    const resolved = resolveTemplate(this, text);
    let references = 0;
    const literal = resolved.replace(/\$\$\{|%%\{|\$\{(?:[^{}"]|"(?:[^"\\]|\\.)*"|\{[^{}]*\})*\}/g, (match) => {
      if (match === '$${') return '${';
      if (match === '%%{') return '%{';
      references += 1;
      return '';
    });
    return { bytes: Buffer.byteLength(literal, 'utf8') + references * USER_DATA_REFERENCE_BYTES, references };
  }

  /**
   * An IPv6-only machine reaches no host without an IPv6 address: GitHub's (github.com and its subdomains, ghcr.io)
   * publish none. Their names in its user data or bundle (the egress allowlist's hosts among its files)
   * are a warning, recorded once although validation runs at every synth.
   */
  private warnAboutIpv4OnlyHosts(): void {
    const texts = [this.userData() ?? '', ...[...this.bundle.files().values()].map((f) => (typeof f.content === 'string' ? f.content : ''))];
    const hosts = [...new Set(texts.flatMap((t) => [...t.matchAll(IPV4_ONLY_HOSTS)].map((m) => m[0].toLowerCase())))].sort();
    if (hosts.length === 0) return;
    const message = `Machine-Ipv6OnlyUnreachableHost: ${this.node.path} has no public IPv4 (publicIpv4: false), and its files name ${hosts.join(', ')}, `
      + 'which publish no IPv6 address (AAAA record), so the machine cannot reach them. Fix: leave publicIpv4 on, reach them through a NAT gateway '
      + 'with IPv4 on the private network, or fetch what they serve from a host with IPv6 (Docker Hub is dual-stack).';
    warnOnce(this, message);
  }

  /**
   * An inbound rule whose blocks are all IPv4 admits no one on a machine without IPv4: nothing reaches its public
   * interface over IPv4, and the private network, where IPv4 does arrive, is not filtered by the firewall at all.
   */
  private warnAboutIpv4OnlyIngress(adminSsh: readonly FirewallRule[]): void {
    for (const rule of this.inboundRules.filter((r) => !adminSsh.includes(r))) {
      const valid = rule.peers.filter((p) => cidrProblem(p) === undefined);
      if (valid.length === 0 || valid.some(isIpv6Block)) continue;
      const message = `Machine-Ipv4OnlyIngress: ${this.node.path}.ingress '${rule.description}' (${rule.protocol}${rule.port ? ` ${rule.port}` : ''} from ${rule.peers.join(', ')}) `
        + 'admits only IPv4 blocks, and the machine has no public IPv4 (publicIpv4: false), so it admits no one. '
        + "Fix: add the IPv6 blocks of the same clients, such as Peer.ipv6('2001:db8:1234::/48'), or leave publicIpv4 on.";
      warnOnce(this, message);
    }
  }

  private warnAboutDeprecatedType(): void {
    const type = this.serverType;
    if (type.isKnown && this.location.isKnown && type.isDeprecatedIn(this.location)) {
      Annotations.of(this).addWarning(
        `Hetzner-DeprecatedServerType: ${this.node.path}.serverType '${type.name}' can no longer be ordered in ${this.location.name} `
        + `(unavailable after ${type.deprecation!.unavailableAfter}); an existing server keeps running, but a replacement will fail. `
        + `Fix: move to ServerType.${type.successor!.name.toUpperCase()} ('${type.successor!.name}').`,
      );
    }
  }
}

/**
 * `, and its largest files are …`: the three largest files of the parts, each with its part and its size as the document
 * carries it (a compressed file's gzip+base64), so that a document of many parts says what to move.
 */
function largestFiles(parts: readonly CloudInitPart[]): string {
  const files = parts.flatMap((part) => (part.files ?? []).map((f) => (
    { path: f.path, part: part.name, bytes: Buffer.byteLength(carriedContent(f), 'utf8'), compressed: f.compress === true }
  ))).sort((a, b) => b.bytes - a.bytes).slice(0, 3);
  if (files.length === 0) return '';
  return `, and its largest files are ${files.map((f) => `${f.path} (part ${f.part}, ${f.bytes} bytes${f.compressed ? ' compressed' : ''})`).join(', ')}`;
}

/** The items in lists of at most `size`, in order. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

function toTerraformRule(rule: FirewallRule): Record<string, unknown> {
  const block = rule.toRuleBlock();
  return {
    direction: block.direction,
    protocol: block.protocol,
    port: block.port,
    description: block.description,
    source_ips: block.sourceIps,
    destination_ips: block.destinationIps,
  };
}

const ENVIRONMENT_FIX = 'use Environment.TEST, Environment.STAGING or Environment.PRODUCTION (the object, not its name)';

const MACHINE_PROPS = propNames<MachineProps>({
  environment: true, role: true, serverType: true, location: true, dataClasses: true, sshKeys: true, adminCidrs: true, ingress: true, egress: true,
  privateNetwork: true, privateIp: true, image: true, name: true, hetznerBackups: true, rollout: true, labels: true, publicIpv4: true,
});

/**
 * What TypeScript checks at compile time, checked at runtime for JavaScript and JSON users: a
 * string `'production'` instead of `Environment.PRODUCTION` would otherwise build an unprotected server.
 */
function checkMachineProps(machine: Machine, props: MachineProps): void {
  const at = machine.node.path;
  requireProps(at, props, 'pass { environment, role, serverType }');
  // hetznerBackup for hetznerBackups, dataClass for dataClasses: a misspelt option would be ignored.
  refuseUnknownProps(at, undefined, props, MACHINE_PROPS);
  requireInstance(at, 'environment', props.environment, Environment, ENVIRONMENT_FIX, 'an Environment');
  requireString(at, 'role', props.role, "name what the machine does, such as 'app'");
  requireInstance(at, 'serverType', props.serverType, ServerType, 'use a ServerType constant such as ServerType.CX23', 'a ServerType');
  optionalInstance(at, 'location', props.location, Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1', 'a Location');
  optionalArray(at, 'dataClasses', props.dataClasses, 'list DataClass values, such as [DataClass.SENSITIVE]', (c, prop) =>
    requireInstance(at, prop, c, DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET', 'a DataClass'));
  optionalArray(at, 'sshKeys', props.sshKeys, 'pass [new SshKey(...)] or [SshKey.fromName("admin")]', (k, prop) => {
    if (!k || typeof k !== 'object' || typeof (k as ISshKey).sshKeyReference !== 'string') {
      fail(at, prop, k, 'it is not an SSH key construct', 'pass new SshKey(...) or SshKey.fromName("admin")');
    }
    return k;
  });
  optionalArray(at, 'adminCidrs', props.adminCidrs, "pass a list of CIDR blocks, such as ['203.0.113.0/24']", (c, prop) =>
    (c instanceof Peer ? c : requireString(at, prop, c, "write the block as text, such as '203.0.113.0/24', or as Peer.ipv4('203.0.113.0/24')")));
  for (const [prop, direction] of [['ingress', FirewallDirection.IN], ['egress', FirewallDirection.OUT]] as const) {
    optionalArray(at, prop, props[prop], `pass FirewallRule values, such as [FirewallRule.${prop === 'ingress' ? 'httpsFromAnywhere()' : "tcpOut(443, ['198.51.100.0/24'])"}]`, (r, p) => {
      const rule = requireInstance(at, p, r, FirewallRule, `build the rule with FirewallRule.${prop === 'ingress' ? 'tcpIn' : 'tcpOut'}(…)`, 'a FirewallRule');
      if (rule.direction !== direction) fail(at, p, rule.description, `it is an ${rule.direction === FirewallDirection.IN ? 'inbound' : 'outbound'} rule`, `move it to ${prop === 'ingress' ? 'egress' : 'ingress'}`);
      return rule;
    });
  }
  if (props.privateNetwork !== undefined && (props.privateNetwork === null || typeof props.privateNetwork !== 'object' || typeof props.privateNetwork.networkZone !== 'string')) {
    fail(at, 'privateNetwork', props.privateNetwork, 'it is not a private network construct', 'pass new PrivateNetwork(...)');
  }
  const privateIp = optionalString(at, 'privateIp', props.privateIp, "write the address as text, such as '10.0.1.2'");
  // Without a network the address was dropped silently, a token's too; a malformed or public one failed only at apply.
  if (privateIp !== undefined && props.privateNetwork === undefined) {
    fail(at, 'privateIp', privateIp, 'a private address is on a private network, and none is given, so it would be ignored', 'pass privateNetwork: new PrivateNetwork(…) too, or leave privateIp out');
  }
  // A token is checked at synth once it resolves (Machine.validate); one Terraform computes, Hetzner checks at apply.
  if (privateIp !== undefined && !Token.isUnresolved(privateIp)) checkPrivateIp(at, privateIp);
  optionalString(at, 'image', props.image, "name the image, such as 'debian-12'");
  optionalString(at, 'name', props.name, "name the server, such as 'production-app'");
  optionalBoolean(at, 'hetznerBackups', props.hetznerBackups);
  optionalBoolean(at, 'publicIpv4', props.publicIpv4);
  optionalStringMap(at, 'labels', props.labels, "pass labels as { key: 'value' }");
  // A list ([{ hostKey }]) passed as well, and its options were ignored: the host key unpinned.
  if (props.rollout !== undefined && (props.rollout === null || typeof props.rollout !== 'object' || Array.isArray(props.rollout))) {
    fail(at, 'rollout', props.rollout, 'rollout options are an object', 'pass { hostKey, sshPrivateKey } or nothing');
  }
  refuseUnknownProps(at, 'rollout', props.rollout, propNames<MachineRolloutOptions>({ sshPrivateKey: true, hostKey: true, port: true, connectTimeout: true }));
}

/** A private address as Hetzner takes it: IPv4, in an RFC 1918 block. */
function privateIpProblem(address: unknown): string | undefined {
  return typeof address === 'string' && ipaddr.IPv4.isValidFourPartDecimal(address) && ipaddr.IPv4.parse(address).range() === 'private'
    ? undefined : 'it is not an IPv4 address of a private (RFC 1918) network';
}

const PRIVATE_IP_FIX = "write the address alone, inside the network's subnet, such as '10.0.1.2'";

function checkPrivateIp(at: string, address: string): void {
  const problem = privateIpProblem(address);
  if (problem) fail(at, 'privateIp', address, problem, PRIVATE_IP_FIX);
}

/**
 * `, such as ServerType.X`: the smallest type orderable in `location` with the architecture and at least the memory
 * and cores of `type` (or, failing that, the largest there), so the fix names one that exists where it is asked for.
 */
function suggestionIn(location: Location, type: ServerType): string {
  const there = ServerType.all().filter((t) => t.isKnown && t.isOfferedIn(location) && !t.isDeprecatedIn(location) && t.architecture === type.architecture);
  const size = (t: ServerType) => t.memory.toGibibytes() * 1000 + t.cores;
  const fits = there.filter((t) => t.memory.toGibibytes() >= type.memory.toGibibytes() && t.cores >= type.cores).sort((a, b) => size(a) - size(b));
  const pick = fits[0] ?? there.sort((a, b) => size(b) - size(a))[0];
  return pick ? `, such as ServerType.${pick.name.toUpperCase()}` : '';
}

/**
 * A machine that declares no classes holds sensitive data, and a declaration may add to what is declared above it, never
 * leave a class out: under a stack (or construct) declared `[DataClass.PUBLIC]` (or `[DataClass.SECRET]`), the default
 * leaves that class out. Said as such, with what to write for each case, not as a drop of a class the caller never listed.
 */
function refuseDefaultLeavingOutDeclaredClass(machine: Machine): void {
  const above = DataClass.declarationOf(machine);
  if (!above || !DataClass.narrowing(machine, [DataClass.SENSITIVE])) return;
  const written = DataClass.written;
  const wider = DataClass.all().filter((c) => above.classes.includes(c) || c === DataClass.SENSITIVE);
  const where = `'${above.on.node.path}'`;
  // Whether the allowlist comes with the choice: a machine holding sensitive data or stricter needs it.
  const restricted = above.classes.some((c) => c.strictness >= DataClass.SENSITIVE.strictness);
  const allowlist = 'the egress allowlist, EgressAllowlist.apply';
  const guess = wider.length === above.classes.length ? `read as ${written(above.classes)}` : `read as either ${written(above.classes)} or ${written(wider)}`;
  fail(machine, 'dataClasses', 'left out (the default)',
    `a Machine that declares no classes holds ${written([DataClass.SENSITIVE])} by default, and ${where} above it is declared to hold `
      + `${written(above.classes)}: a declaration below may add classes to that one but not leave one out, so the default is refused rather than ${guess}`,
    wider.length === above.classes.length ? `declare what it holds: dataClasses: ${written(above.classes)}`
      : `say what the machine holds: dataClasses: ${written(above.classes)} if it holds only what ${where} declares, `
        + `or dataClasses: ${written(wider)} if it holds sensitive data too ${restricted ? `(either needs ${allowlist})` : `(it then needs ${allowlist})`}`);
}
