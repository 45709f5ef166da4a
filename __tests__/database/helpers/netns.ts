import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { forgetNetworkNamespace, recordNetworkNamespace } from '../../setup/run-leftovers';

/**
 * Two network namespaces joined by a veth pair, standing in for a machine and the world outside
 * its private network: `db` carries the machine's private address and a "public" address (TEST-NET,
 * RFC 5737); `outside` carries another TEST-NET address and reaches the private subnet through `db`.
 * Traffic never leaves the namespaces.
 */
export class NamespacePair {
  public static create(tag: string, addresses: { privateCidr: string; publicAddress: string; outsideAddress: string; privateSubnet: string }): NamespacePair {
    const a = `vd${tag}`.slice(0, 15);
    const b = `vo${tag}`.slice(0, 15);
    const pair = new NamespacePair(`pgdb-${tag}`, `pgout-${tag}`, a, b);
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    const inDb = (...args: string[]) => ip('netns', 'exec', pair.db, 'ip', ...args);
    const inOut = (...args: string[]) => ip('netns', 'exec', pair.outside, 'ip', ...args);
    // Named namespaces are mounts under /run/netns, which outlive the test: a step that fails (an address taken, a
    // veth name left by another run) undoes what this call made, since the caller never gets the pair to destroy.
    const undo: Array<() => void> = [];
    try {
      for (const ns of [pair.db, pair.outside]) {
        ip('netns', 'add', ns);
        // The run's end removes it if this process never does (a worker killed at the run limit, or crashed).
        recordNetworkNamespace(ns);
        undo.push(() => removeNamespace(ns));
      }
      ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
      // Until both ends are moved into the namespaces (whose deletion takes them), the pair is the host's.
      undo.push(() => spawnSync('ip', ['link', 'del', a]));
      ip('link', 'set', a, 'netns', pair.db);
      ip('link', 'set', b, 'netns', pair.outside);
      inDb('link', 'set', 'lo', 'up');
      inDb('addr', 'add', addresses.privateCidr, 'dev', a);
      inDb('addr', 'add', `${addresses.publicAddress}/24`, 'dev', a);
      inDb('link', 'set', a, 'up');
      inOut('link', 'set', 'lo', 'up');
      inOut('addr', 'add', `${addresses.outsideAddress}/24`, 'dev', b);
      inOut('link', 'set', b, 'up');
      inOut('route', 'add', addresses.privateSubnet, 'via', addresses.publicAddress);
    } catch (e) {
      for (const step of undo.reverse()) step();
      throw e;
    }
    return pair;
  }

  /** Whether this host can create namespaces (root, iproute2, veth). */
  public static available(): boolean {
    if (process.getuid?.() !== 0) return false;
    const probe = `pgprobe-${process.pid}`;
    const ok = spawnSync('ip', ['netns', 'add', probe]).status === 0;
    if (ok) spawnSync('ip', ['netns', 'del', probe]);
    return ok;
  }

  private constructor(
    public readonly db: string,
    public readonly outside: string,
    /** The interface in `db` that carries the private and "public" addresses. */
    public readonly dbInterface: string,
    /** The interface in `outside`, on the same link as `dbInterface`. */
    public readonly outsideInterface: string,
  ) {}

  /** argv prefix that runs a command inside a namespace. */
  public exec(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  public destroy(): void {
    removeNamespace(this.db);
    removeNamespace(this.outside);
  }
}

/**
 * Removes a namespace and its record: the name is the host's, and may be another run's next. A namespace still there
 * after a failed `ip netns del` keeps its record, for the run's end to remove.
 */
export function removeNamespace(name: string): void {
  if (spawnSync('ip', ['netns', 'del', name]).status === 0 || !fs.existsSync(`/run/netns/${name}`)) forgetNetworkNamespace(name);
}
