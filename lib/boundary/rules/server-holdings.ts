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
  for (const v of volumes.values()) if (v.body.server_id !== undefined && v.body.server_id !== null && mayName(v.body.server_id, server.name, serverNames)) attached.add(v);
  for (const a of resources.filter((r) => r.type === 'hcloud_volume_attachment' && mayName(r.body.server_id, server.name, serverNames))) {
    const named = [...JSON.stringify(a.body.volume_id ?? '').matchAll(/hcloud_volume\.([A-Za-z0-9_-]+)\.id/g)].map((m) => volumes.get(m[1]));
    // A volume id that names no volume of the stack (a literal, a variable) holds what nothing declared: sensitive.
    if (named.length === 0 || named.some((v) => v === undefined)) {
      return { classes: DataClass.all().filter((c) => own.classes.includes(c) || c === DataClass.SENSITIVE), undeclared: own.undeclared, widenedBy: [`${a.path} (a volume not in this stack)`] };
    }
    for (const v of named) attached.add(v!);
  }
  const wider = [...attached].filter((v) => heldData(v, constructAt).classes.some((c) => !own.classes.includes(c)));
  if (wider.length === 0) return own;
  const classes = new Set([...own.classes, ...wider.flatMap((v) => heldData(v, constructAt).classes)]);
  return { classes: DataClass.all().filter((c) => classes.has(c)), undeclared: false, widenedBy: wider.map((v) => v.path) };
}

/** What a server holds, with the attached volumes that hold more than it declares. */
export interface ServerHoldings extends HeldData {
  /**
   * The volumes (or attachments) whose data the server's own declaration does not cover.
   * @default - none: the server's own classes cover everything attached
   */
  readonly widenedBy?: readonly string[];
}

/** How a finding names what a server holds: its strictest class, and the volumes it comes from when its own declaration does not cover them. */
export function describeServerHoldings(held: ServerHoldings): string {
  return `${describeHeld(held)}${held.widenedBy ? ` (on ${held.widenedBy.join(', ')}, attached to it)` : ''}`;
}
