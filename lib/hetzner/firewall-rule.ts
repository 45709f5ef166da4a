import { ANYWHERE_IPV4, ANYWHERE_IPV6, cidrProblem, coversWholeInternet } from '../core/cidr';
import { Port } from '../core/port';
import { fail, optionalString, requireArray } from '../core/runtime-checks';

/** Protocols a Hetzner Cloud Firewall rule can match. */
export enum FirewallProtocol {
  TCP = 'tcp',
  UDP = 'udp',
  ICMP = 'icmp',
  GRE = 'gre',
  ESP = 'esp',
}

/** Traffic direction of a rule, as seen from the server. */
export enum FirewallDirection {
  IN = 'in',
  OUT = 'out',
}

/** Options shared by every rule factory. */
export interface FirewallRuleOptions {
  /**
   * What the rule is for; shown in the Hetzner console.
   * @default - derived from protocol and port
   */
  readonly description?: string;
}

/**
 * One rule of a Hetzner Cloud Firewall.
 *
 * Hetzner firewalls are stateful and match IP blocks, never hostnames. Inbound is
 * deny-by-default; outbound is allow-all until the first outbound rule exists, after
 * which everything not allowed is denied. They do not filter private-network traffic.
 */
export class FirewallRule {
  /** Every IPv4 and IPv6 address. */
  public static readonly ANYWHERE: readonly string[] = [ANYWHERE_IPV4, ANYWHERE_IPV6];

  /** Allows inbound TCP on a port (or range `a-b`) from the given blocks. */
  public static tcpIn(port: Port | string | number, from: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.tcpIn', FirewallDirection.IN, FirewallProtocol.TCP, port, from, options);
  }

  /** Allows inbound UDP on a port (or range `a-b`) from the given blocks. */
  public static udpIn(port: Port | string | number, from: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.udpIn', FirewallDirection.IN, FirewallProtocol.UDP, port, from, options);
  }

  /** Allows inbound ICMP (ping, path-MTU discovery) from the given blocks. */
  public static icmpIn(from: readonly string[] = FirewallRule.ANYWHERE, options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.icmpIn', FirewallDirection.IN, FirewallProtocol.ICMP, undefined, from, options);
  }

  /** Allows HTTPS (TCP 443) from anywhere: for a public web entry point. */
  public static httpsFromAnywhere(): FirewallRule {
    return FirewallRule.tcpIn(443, FirewallRule.ANYWHERE, { description: 'HTTPS from anywhere' });
  }

  /** Allows HTTP (TCP 80) from anywhere: for redirects and ACME HTTP-01 challenges. */
  public static httpFromAnywhere(): FirewallRule {
    return FirewallRule.tcpIn(80, FirewallRule.ANYWHERE, { description: 'HTTP from anywhere (redirect and ACME)' });
  }

  /** Allows outbound TCP to a port (or range) on the given blocks. Adding any outbound rule denies all other egress. */
  public static tcpOut(port: Port | string | number, to: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.tcpOut', FirewallDirection.OUT, FirewallProtocol.TCP, port, to, options);
  }

  /** Allows outbound UDP to a port (or range) on the given blocks. Adding any outbound rule denies all other egress. */
  public static udpOut(port: Port | string | number, to: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.udpOut', FirewallDirection.OUT, FirewallProtocol.UDP, port, to, options);
  }

  /**
   * Checks what a JavaScript or JSON caller may pass wrongly: the port as a value (`abc`, `70000`
   * and `6000-5000` are refused), the peers as a list of valid CIDR blocks, the description as text.
   */
  private static create(at: string, direction: FirewallDirection, protocol: FirewallProtocol, port: unknown, peers: unknown, options: unknown): FirewallRule {
    const range = port === undefined ? undefined : Port.parse(port, at);
    const list = requireArray(at, direction === FirewallDirection.IN ? 'from' : 'to', peers,
      "pass a list of CIDR blocks, such as ['203.0.113.0/24'] or FirewallRule.ANYWHERE", (peer, prop) => {
        const problem = cidrProblem(peer);
        if (problem) fail(at, prop, peer, problem, 'write the block as address/prefix with host bits cleared, such as "203.0.113.0/24"');
        return peer as string;
      });
    if (list.length === 0) {
      fail(at, direction === FirewallDirection.IN ? 'from' : 'to', list, 'a rule without addresses matches nothing, and Hetzner refuses it', "list the blocks, such as ['203.0.113.0/24']");
    }
    if (options !== undefined && (options === null || typeof options !== 'object')) fail(at, 'options', options, 'options are an object', "pass { description: '…' } or nothing");
    const description = optionalString(at, 'options.description', (options as FirewallRuleOptions | undefined)?.description, "describe the rule in words, such as 'HTTPS from anywhere'");
    return new FirewallRule(direction, protocol, range, list, description);
  }

  /** A port, a range `a-b`, or undefined for protocols without ports; as Hetzner writes it. */
  public readonly port: string | undefined;

  private constructor(
    public readonly direction: FirewallDirection,
    public readonly protocol: FirewallProtocol,
    /** The ports the rule matches; undefined for protocols without ports (ICMP, GRE, ESP), which match every packet of the protocol. */
    public readonly ports: Port | undefined,
    /** Sources for inbound rules, destinations for outbound ones. */
    public readonly peers: readonly string[],
    private readonly explicitDescription: string | undefined,
  ) {
    this.port = ports?.toString();
  }

  /** Whether the rule lets traffic to `port` through (for TCP and UDP). */
  public includesPort(port: number): boolean {
    return (this.protocol === FirewallProtocol.TCP || this.protocol === FirewallProtocol.UDP) && this.ports !== undefined && this.ports.includes(port);
  }

  public get description(): string {
    return this.explicitDescription
      ?? `${this.direction === FirewallDirection.IN ? 'allow in' : 'allow out'} ${this.protocol}${this.port ? ` ${this.port}` : ''}`;
  }

  /** Whether the rule lets anyone on the internet in. */
  public get isOpenToInternet(): boolean {
    return this.direction === FirewallDirection.IN && coversWholeInternet(this.peers);
  }

  /** The rule as the `rule` block of `hcloud_firewall`. */
  public toRuleBlock(): {
    direction: string; protocol: string; port?: string; description: string; sourceIps?: string[]; destinationIps?: string[];
  } {
    return {
      direction: this.direction,
      protocol: this.protocol,
      port: this.port,
      description: this.description,
      ...(this.direction === FirewallDirection.IN ? { sourceIps: [...this.peers] } : { destinationIps: [...this.peers] }),
    };
  }
}
