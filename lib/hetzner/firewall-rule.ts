import { ANYWHERE_IPV4, ANYWHERE_IPV6 } from '../core/cidr';

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
  public static tcpIn(port: string | number, from: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return new FirewallRule(FirewallDirection.IN, FirewallProtocol.TCP, String(port), from, options.description);
  }

  /** Allows inbound UDP on a port (or range `a-b`) from the given blocks. */
  public static udpIn(port: string | number, from: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return new FirewallRule(FirewallDirection.IN, FirewallProtocol.UDP, String(port), from, options.description);
  }

  /** Allows inbound ICMP (ping, path-MTU discovery) from the given blocks. */
  public static icmpIn(from: readonly string[] = FirewallRule.ANYWHERE, options: FirewallRuleOptions = {}): FirewallRule {
    return new FirewallRule(FirewallDirection.IN, FirewallProtocol.ICMP, undefined, from, options.description);
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
  public static tcpOut(port: string | number, to: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return new FirewallRule(FirewallDirection.OUT, FirewallProtocol.TCP, String(port), to, options.description);
  }

  /** Allows outbound UDP to a port (or range) on the given blocks. Adding any outbound rule denies all other egress. */
  public static udpOut(port: string | number, to: readonly string[], options: FirewallRuleOptions = {}): FirewallRule {
    return new FirewallRule(FirewallDirection.OUT, FirewallProtocol.UDP, String(port), to, options.description);
  }

  private constructor(
    public readonly direction: FirewallDirection,
    public readonly protocol: FirewallProtocol,
    /** A port, a range `a-b`, or undefined for protocols without ports. */
    public readonly port: string | undefined,
    /** Sources for inbound rules, destinations for outbound ones. */
    public readonly peers: readonly string[],
    private readonly explicitDescription: string | undefined,
  ) {}

  public get description(): string {
    return this.explicitDescription
      ?? `${this.direction === FirewallDirection.IN ? 'allow in' : 'allow out'} ${this.protocol}${this.port ? ` ${this.port}` : ''}`;
  }

  /** Whether the rule lets anyone on the internet in. */
  public get isOpenToInternet(): boolean {
    return this.direction === FirewallDirection.IN && this.peers.some((p) => /\/0$/.test(p));
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
