import { IConstruct } from 'constructs';
import { DataClass } from '../../core/data-class';
import { mayName } from './firewall-attachments';
import { describeHeld, HeldData, heldData, SynthesizedResource } from './rule';

/**
 * What a server holds, as the rules that judge what it can send read it: its own classes and those of every
 * volume attached to it (`hcloud_volume_attachment`, or a volume's own `server_id`), which it mounts and reads.
 * A public machine with a sensitive volume holds sensitive data: judged by its own classes alone, its egress
 * stayed open to every address. A volume attached by an id that may be this server's counts too.
 */
export function heldByServer(server: SynthesizedResource, resources: readonly SynthesizedResource[], constructAt?: (path: string) => IConstruct | undefined): ServerHoldings {
  const own = heldData(server, constructAt);
  const serverNames = new Set(resources.filter((r) => r.type === 'hcloud_server').map((r) => r.name));
  const volumes = new Map(resources.filter((r) => r.type === 'hcloud_volume').map((v) => [v.name, v]));
  const attached = new Set<SynthesizedResource>();
  // Attachments of a volume that is not in this stack (a literal id, a variable): what nothing declared, so sensitive.
  const foreign: string[] = [];
  for (const v of volumes.values()) if (v.body.server_id !== undefined && v.body.server_id !== null && mayName(v.body.server_id, server.name, serverNames)) attached.add(v);
  for (const a of resources.filter((r) => r.type === 'hcloud_volume_attachment' && mayName(r.body.server_id, server.name, serverNames))) {
    const named = [...JSON.stringify(a.body.volume_id ?? '').matchAll(/hcloud_volume\.([A-Za-z0-9_-]+)\.id/g)].map((m) => volumes.get(m[1]));
    if (named.length === 0 || named.some((v) => v === undefined)) foreign.push(`${a.path} (a volume not in this stack)`);
    for (const v of named) if (v) attached.add(v);
  }
  const wider = [...attached].filter((v) => heldData(v, constructAt).classes.some((c) => !own.classes.includes(c)));
  const widensToSensitive = foreign.length > 0 && !own.classes.includes(DataClass.SENSITIVE);
  if (wider.length === 0 && !widensToSensitive) return own;
  // Every volume counts, also beside one not in the stack: a secret volume is not reported as merely sensitive.
  const classes = new Set([...own.classes, ...wider.flatMap((v) => heldData(v, constructAt).classes), ...(foreign.length > 0 ? [DataClass.SENSITIVE] : [])]);
  return {
    classes: DataClass.all().filter((c) => classes.has(c)),
    undeclared: wider.length === 0 ? own.undeclared : false,
    widenedBy: [...wider.map((v) => v.path), ...(widensToSensitive ? foreign : [])],
    undeclaredVolumes: wider.filter((v) => heldData(v, constructAt).undeclared).map((v) => v.path),
  };
}

/** What a server holds, with the attached volumes that hold more than it declares. */
export interface ServerHoldings extends HeldData {
  /**
   * The volumes (or attachments) whose data the server's own declaration does not cover.
   * @default - none: the server's own classes cover everything attached
   */
  readonly widenedBy?: readonly string[];
  /**
   * The volumes of `widenedBy` that nothing declared (counted as sensitive): declaring them may be the fix.
   * @default - none
   */
  readonly undeclaredVolumes?: readonly string[];
}

/**
 * The fix for a server judged by what undeclared attached volumes hold, as a clause to append to a finding's fix: a
 * volume that holds only public data is declared so, and the server needs no allowlist. Empty when there is none.
 */
export function declareVolumesFix(held: ServerHoldings): string {
  const volumes = held.undeclaredVolumes ?? [];
  if (volumes.length === 0) return '';
  return `; or, if ${volumes.join(', ')} ${volumes.length === 1 ? 'holds' : 'hold'} only public data, declare so on the volume: `
    + 'DataClass.declare(volume, [DataClass.PUBLIC]), or its label data-class=public';
}

/** How a finding names what a server holds: its strictest class, and the volumes it comes from when its own declaration does not cover them. */
export function describeServerHoldings(held: ServerHoldings): string {
  return `${describeHeld(held)}${held.widenedBy ? ` (on ${held.widenedBy.join(', ')}, attached to it)` : ''}`;
}
