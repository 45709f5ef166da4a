import { ANYWHERE_IPV4, ANYWHERE_IPV6, blockText, cidrFix, cidrProblem, coversWholeInternet } from '../core/cidr';
import { Peer } from '../core/peer';
import { Port } from '../core/port';
import { fail, is, optionalString, propNames, refuseUnknownProps, requireArray } from '../core/runtime-checks';
import { missingValue, ValidationError } from '../core/validation-message';

/** Protocols a Hetzner Cloud Firewall rule can match. */
export enum FirewallProtocol {
  /** TCP, on a port or a range. */
  TCP = 'tcp',
  /** UDP, on a port or a range. */
  UDP = 'udp',
  /** ICMP (ping, path-MTU discovery); no ports. */
  ICMP = 'icmp',
  /** GRE tunnels; no ports. */
  GRE = 'gre',
  /** IPsec ESP; no ports. */
  ESP = 'esp',
}

/** Traffic direction of a rule, as seen from the server. */
export enum FirewallDirection {
  /** Traffic reaching the server. */
  IN = 'in',
  /** Traffic the server sends. */
  OUT = 'out',
}

/** A rule as the `rule` block of `hcloud_firewall` takes it (cdktf's property names). */
export interface FirewallRuleBlock {
  /** `in` or `out`. */
  readonly direction: string;
  /** `tcp`, `udp`, `icmp`, `gre` or `esp`. */
  readonly protocol: string;
  /** A port or a range `a-b`; absent for protocols without ports. */
  readonly port?: string;
  /** What the rule is for, shown in the Hetzner console. */
  readonly description: string;
  /** The blocks an inbound rule admits. */
  readonly sourceIps?: string[];
  /** The blocks an outbound rule reaches. */
  readonly destinationIps?: string[];
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
  /** Every IPv4 and IPv6 address, as text; `Peer.anywhere()` is the same as peers. */
  public static readonly ANYWHERE: readonly string[] = [ANYWHERE_IPV4, ANYWHERE_IPV6];

  /** Allows inbound TCP on a port (or range `a-b`) from the given blocks (`Peer`s or CIDR text). */
  public static tcpIn(port: Port | string | number, from: ReadonlyArray<Peer | string>, options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.tcpIn', FirewallDirection.IN, FirewallProtocol.TCP, port, from, options);
  }

  /** Allows inbound UDP on a port (or range `a-b`) from the given blocks (`Peer`s or CIDR text). */
  public static udpIn(port: Port | string | number, from: ReadonlyArray<Peer | string>, options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.udpIn', FirewallDirection.IN, FirewallProtocol.UDP, port, from, options);
  }

  /** Allows inbound ICMP (ping, path-MTU discovery) from the given blocks. */
  public static icmpIn(from: ReadonlyArray<Peer | string> = FirewallRule.ANYWHERE, options: FirewallRuleOptions = {}): FirewallRule {
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
  public static tcpOut(port: Port | string | number, to: ReadonlyArray<Peer | string>, options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.tcpOut', FirewallDirection.OUT, FirewallProtocol.TCP, port, to, options);
  }

  /** Allows outbound UDP to a port (or range) on the given blocks. Adding any outbound rule denies all other egress. */
  public static udpOut(port: Port | string | number, to: ReadonlyArray<Peer | string>, options: FirewallRuleOptions = {}): FirewallRule {
    return FirewallRule.create('FirewallRule.udpOut', FirewallDirection.OUT, FirewallProtocol.UDP, port, to, options);
  }

  /**
   * Checks what a JavaScript or JSON caller may pass wrongly: the port as a value (`abc`, `70000`
   * and `6000-5000` are refused), the peers as a list of `Peer`s or valid CIDR blocks, the
   * description as text. Peers are kept as their CIDR text, the one form the rule block, the
   * boundary rules and the coverage checks read.
   */
  private static create(at: string, direction: FirewallDirection, protocol: FirewallProtocol, port: unknown, peers: unknown, options: unknown): FirewallRule {
    if (port === undefined && (protocol === FirewallProtocol.TCP || protocol === FirewallProtocol.UDP)) {
      throw new ValidationError(missingValue(at, 'port', `a ${protocol} rule names its ports, and Hetzner refuses one without`, "pass a port such as 443, a range such as '8000-8080', or 'any'"));
    }
    const range = port === undefined ? undefined : Port.parse(port, at);
    const list = requireArray(at, direction === FirewallDirection.IN ? 'from' : 'to', peers,
      "pass a list of CIDR blocks, such as [Peer.ipv4('203.0.113.0/24')], ['203.0.113.0/24'] or Peer.anywhere()", (peer, prop) => {
        const text = blockText(peer);
        const problem = cidrProblem(text);
        if (problem) fail(at, prop, peer, problem, cidrFix(text, 'write the block as address/prefix with host bits cleared, such as "203.0.113.0/24"'));
        return text as string;
      });
    if (list.length === 0) {
      fail(at, direction === FirewallDirection.IN ? 'from' : 'to', list, 'a rule without addresses matches nothing, and Hetzner refuses it', "list the blocks, such as ['203.0.113.0/24']");
    }
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) fail(at, 'options', options, 'options are an object', "pass { description: '…' } or nothing");
    refuseUnknownProps(at, 'options', options, propNames<FirewallRuleOptions>({ description: true }));
    const description = optionalString(at, 'options.description', (options as FirewallRuleOptions | undefined)?.description, "describe the rule in words, such as 'HTTPS from anywhere'");
    return new FirewallRule(direction, protocol, range, list, description);
  }

  /** A port, a range `a-b`, or undefined for protocols without ports; as Hetzner writes it. */
  public readonly port: string | undefined;

  private constructor(
    /** Whether the rule admits traffic in or lets it out. */
    public readonly direction: FirewallDirection,
    /** The protocol the rule matches. */
    public readonly protocol: FirewallProtocol,
    /** The ports the rule matches; undefined for protocols without ports (ICMP, GRE, ESP), which match every packet of the protocol. */
    public readonly ports: Port | undefined,
    /** Sources for inbound rules, destinations for outbound ones, as CIDR text (a `Peer` as its `toString()`). */
    public readonly peers: readonly string[],
    private readonly explicitDescription: string | undefined,
  ) {
    this.port = ports?.toString();
  }

  /** Whether the rule lets traffic to `port` through (for TCP and UDP). */
  public includesPort(port: number): boolean {
    // Checked here too: an ICMP rule never asks its ports, and answered false to anything.
    is.number('pass the port as a whole number, such as 22', { integer: true })('FirewallRule.includesPort', 'port', port);
    return (this.protocol === FirewallProtocol.TCP || this.protocol === FirewallProtocol.UDP) && this.ports !== undefined && this.ports.includes(port);
  }

  /** What the rule is for: the description given, or one derived from direction, protocol and port. */
  public get description(): string {
    return this.explicitDescription
      ?? `${this.direction === FirewallDirection.IN ? 'allow in' : 'allow out'} ${this.protocol}${this.port ? ` ${this.port}` : ''}`;
  }

  /** Whether the rule lets anyone on the internet in. */
  public get isOpenToInternet(): boolean {
    return this.direction === FirewallDirection.IN && coversWholeInternet(this.peers);
  }

  /** The rule as the `rule` block of `hcloud_firewall`. */
  public toRuleBlock(): FirewallRuleBlock {
    return {
      direction: this.direction,
      protocol: this.protocol,
      port: this.port,
      description: this.description,
      ...(this.direction === FirewallDirection.IN ? { sourceIps: [...this.peers] } : { destinationIps: [...this.peers] }),
    };
  }
}
