import { Construct } from 'constructs';
import { ITerraformDependable, Token } from 'cdktf';
import { Network } from '../../generated/providers/hcloud/network';
import { NetworkSubnet } from '../../generated/providers/hcloud/network-subnet';
import { cidrProblem } from '../core/cidr';
import { Environment } from '../core/environment';
import { Retirement } from '../core/retirement';
import { invalidValue } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';
import { Location } from './location';
import { labelErrors, standardLabels, withUserLabels } from './private/standard-labels';
import { checkUniquePerProject } from './private/project-uniqueness';
import { guardStack } from '../core/private/guard-stack';

/** A private network that machines can join. */
export interface IPrivateNetwork {
  /** The `hcloud_network_subnet` ID that servers attach to. */
  readonly subnetId: string;
  /** The network zone the subnet lives in; a machine must be in a location of this zone. */
  readonly networkZone: string;
  /** What a server must depend on so that it never attaches before the subnet exists. */
  readonly attachmentDependency: ITerraformDependable;
}

/** What a private network is made of: its environment, address range and zone. */
export interface PrivateNetworkProps {
  /** The environment the network belongs to; production networks are delete-protected. */
  readonly environment: Environment;
  /**
   * Name of the network.
   * @default `${environment}-network`
   */
  readonly name?: string;
  /**
   * Where the machines that join it run; decides the network zone.
   * @default Location.FSN1
   */
  readonly location?: Location;
  /**
   * The network's address range.
   * @default '10.0.0.0/16'
   */
  readonly ipRange?: string;
  /**
   * The range of the one cloud subnet machines attach to; must lie inside `ipRange`.
   * @default '10.0.1.0/24'
   */
  readonly subnetRange?: string;
  /**
   * Extra labels.
   * @default - only the standard labels
   */
  readonly labels?: Record<string, string>;
}

/**
 * One private network per environment, with one cloud subnet.
 *
 * Hetzner Cloud Firewalls do not filter private-network traffic, so a network is
 * never shared between environments: every machine on it can reach every other.
 */
export class PrivateNetwork extends Construct implements IPrivateNetwork {
  /** The `hcloud_network` resource. */
  public readonly network: Network;
  /** The `hcloud_network_subnet` resource servers attach to. */
  public readonly subnet: NetworkSubnet;
  public readonly subnetId: string;
  public readonly networkZone: string;
  public readonly attachmentDependency: ITerraformDependable;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    guardStack(this);
    // Hetzner names it once per project, and other stacks of the App may deploy to this one (staging to production's).
    checkUniquePerProject(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<PrivateNetworkProps>(this, props, {
      environment: is.instance(Environment, 'use Environment.PRODUCTION, Environment.TEST or Environment.STAGING'),
      name: is.optional(is.text("name it such as 'acme-production-network'")),
      location: is.optional(is.instance(Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1')),
      ipRange: is.optional(is.text("write a private block such as '10.0.0.0/16'")),
      subnetRange: is.optional(is.text("write a block inside the range, such as '10.0.1.0/24'")),
      labels: is.optional(is.textMap("write labels such as { team: 'ml' }")),
    }, "pass { environment: Environment.PRODUCTION, name: 'acme-production-network' }");
    const location = props.location ?? Location.FSN1;
    const ipRange = props.ipRange ?? '10.0.0.0/16';
    const subnetRange = props.subnetRange ?? '10.0.1.0/24';
    this.networkZone = location.networkZone;
    const isProtected = Retirement.keepsProtection(scope, props.environment.protectedFromLoss);

    // The standard labels win: the boundary rules and the staging reaper read them.
    const labels = withUserLabels(this.node.path, props.environment, standardLabels({ environment: props.environment, role: 'network' }), props.labels);
    this.network = new Network(this, 'Resource', {
      name: props.name ?? `${props.environment.name}-network`,
      ipRange,
      deleteProtection: isProtected,
      labels,
      lifecycle: isProtected ? { preventDestroy: true } : undefined,
    });
    this.subnet = new NetworkSubnet(this, 'Subnet', {
      networkId: Token.asNumber(this.network.id),
      type: 'cloud',
      networkZone: this.networkZone,
      ipRange: subnetRange,
      // Its range and zone force a new subnet, which Hetzner cannot delete while servers are attached: the apply
      // would stop part-way. In production the plan refuses it instead, as it does for the network.
      lifecycle: isProtected ? { preventDestroy: true } : undefined,
    });
    this.subnetId = this.subnet.id;
    this.attachmentDependency = this.subnet;

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (!location.isKnown) {
          errors.push(invalidValue(this, 'location', location.name, 'it is not a Hetzner location', `use one of ${Location.all().map((l) => `Location.${l.name.toUpperCase()}`).join(', ')}`));
        }
        for (const [prop, cidr] of [['ipRange', ipRange], ['subnetRange', subnetRange]] as const) {
          const problem = cidrProblem(cidr);
          if (problem) errors.push(invalidValue(this, prop, cidr, problem, 'use a private IPv4 block such as 10.0.0.0/16'));
        }
        errors.push(...labelErrors(this, labels));
        if (!cidrProblem(ipRange) && !cidrProblem(subnetRange) && !ipv4Contains(ipRange, subnetRange)) {
          errors.push(invalidValue(this, 'subnetRange', subnetRange, `it is not inside the network's ipRange ${ipRange}`, `pick a subnet of ${ipRange}, such as the default 10.0.1.0/24 inside 10.0.0.0/16`));
        }
        return errors;
      },
    });
  }
}

function ipv4Contains(outer: string, inner: string): boolean {
  const parse = (cidr: string): [number, number] | undefined => {
    const [address, prefix] = cidr.split('/');
    const octets = address.split('.').map(Number);
    if (octets.length !== 4) return undefined;
    return [octets.reduce((acc, o) => acc * 256 + o, 0), Number(prefix)];
  };
  const o = parse(outer);
  const i = parse(inner);
  if (!o || !i) return false;
  const size = 2 ** (32 - o[1]);
  return i[1] >= o[1] && Math.floor(i[0] / size) === Math.floor(o[0] / size);
}
