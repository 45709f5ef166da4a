import { TerraformResource } from 'cdktf';
import { quote } from '../../core/validation-message';
import { builtArguments } from '../../hetzner/private/synthesized-argument';
import type { Finding, SynthesizedResource } from '../rules/rule';

/**
 * A resource that carries a machine's host allowlist to its server: the server's first-boot user data, and the
 * rollout whose provisioners copy the bundle (the allowlist is its first part) and activate it.
 */
export interface AllowlistCarrier {
  /** The resource as the library built it. */
  readonly resource: TerraformResource;
  /** What of its body must reach Terraform as built, by argument. */
  readonly carried: (body: Record<string, any>) => Record<string, unknown>;
  /** Why it must, for the message. */
  readonly why: string;
}

/** The server's user data: it runs at first boot, before the rollout can load the table. */
export function userDataCarrier(server: TerraformResource): AllowlistCarrier {
  return {
    resource: server,
    carried: (body) => ({ user_data: body.user_data }),
    why: 'user data runs when the server is created, before the rollout loads the host allowlist, with every port the firewall opens (TCP 443 among them) '
      + 'reaching any address; the machine renders it holding nothing that runs or starts anything',
  };
}

/**
 * The rollout: everything it writes but how SSH reaches the host (a bastion, an agent, a port or a timeout changes
 * where the connection goes through, not what it delivers).
 */
export function rolloutCarrier(rollout: TerraformResource): AllowlistCarrier {
  return {
    resource: rollout,
    carried: (body) => {
      const { ['//']: _metadata, connection, ...rest } = body;
      return { ...rest, 'connection.host': connection?.host };
    },
    why: 'the rollout copies the bundle, whose first part is the host allowlist, to this server and activates it there; changed, it may deliver '
      + 'another bundle, to another host, never, or let a failed load pass, while the firewall leaves TCP 80, 443 and 23 open to every address',
  };
}

/**
 * Where what Terraform will receive differs from what the library built for the carriers of a machine's allowlist:
 * an override (`addOverride`, `addPropertyOverride`, on the resource or the stack) or an Aspect that changed the
 * user data or the rollout after the library checked them. The rules read the allowlist from the construct tree,
 * so an allowlist that never reaches the server would otherwise pass as if it did.
 */
export function deliveryFindings(serverPath: string, carriers: readonly AllowlistCarrier[], resources: readonly SynthesizedResource[]): Finding[] {
  return carriers.flatMap((carrier): Finding[] => {
    const type = carrier.resource.terraformResourceType;
    const name = carrier.resource.friendlyUniqueId;
    const path = carrier.resource.node.path;
    const found = resources.find((r) => r.type === type && r.name === name);
    // An override can write the resource as null: it carries nothing then.
    if (!found || found.body === null || typeof found.body !== 'object') {
      return [{
        path: serverPath,
        message: `${path}: missing: it carries the host allowlist to ${serverPath}, and the configuration no longer has ${type}.${name}. Fix: remove what removed it (an override or an Aspect)`,
      }];
    }
    const built = carrier.carried(builtArguments(carrier.resource, 'all'));
    const written = carrier.carried(found.body);
    return [...new Set([...Object.keys(built), ...Object.keys(written)])]
      .filter((argument) => canonical(built[argument]) !== canonical(written[argument]))
      .map((argument) => {
        const [at, value] = firstDifference(argument, written[argument], built[argument]);
        return {
          path: serverPath,
          message: `${path}.${at}: ${value} is not allowed: it is not what the library built (an override or an Aspect changed it), and ${carrier.why}. `
            + `Fix: remove the override of ${argument}; put first-boot software in the bundle (machine.addBundlePart), which the rollout activates after the allowlist, `
            + 'or suppress Boundary-RestrictedEgress on the machine with the reason the change is safe',
        };
      });
  });
}

/**
 * Where an argument differs and its value there, as the message shows it: user data by its size (it can be long,
 * and hold what the machine renders from secrets); anything else at the deepest place that differs (an `on_failure`
 * added to the fifth provisioner is `provisioner[4].remote-exec.on_failure`), or a list of provisioners of another
 * length by their kinds beside the library's.
 */
function firstDifference(at: string, value: unknown, built: unknown): [string, string] {
  if (at === 'user_data' && typeof value === 'string') return [at, `'<user data of ${value.length} characters>'`];
  if (Array.isArray(value) && Array.isArray(built)) {
    if (value.length !== built.length) {
      return at === 'provisioner' ? [at, `'${kinds(value)}' (the library wrote ${kinds(built)})`] : [at, quote(value)];
    }
    const i = value.findIndex((v, j) => canonical(v) !== canonical(built[j]));
    return firstDifference(`${at}[${i}]`, value[i], built[i]);
  }
  if (isObject(value) && isObject(built)) {
    const key = [...new Set([...Object.keys(built), ...Object.keys(value)])].find((k) => canonical(value[k]) !== canonical(built[k]))!;
    return firstDifference(`${at}.${key}`, value[key], built[key]);
  }
  return [at, quote(value)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function kinds(provisioners: unknown[]): string {
  return provisioners.map((p) => (isObject(p) ? Object.keys(p).join('+') : typeof p)).join(', ') || 'none';
}

/** JSON with the keys of every object sorted: the same value written in another key order is the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v)) ?? 'undefined';
}
