import * as fs from 'fs';
import { environmentOf, holders, openFile, tcpAddress, tcpSockets } from '../harness/processes';

/**
 * The simulated project of the Terraform process on the other end of a loopback connection, read
 * from /proc (Linux): the endpoint file in its working directory, else its HCLOUD_ENDPOINT. A reattached stand-in serves many workspaces from one process, and the
 * endpoint cannot travel in the provider block: Terraform skips provider-config validation at
 * `validate` for a provider block merged with an override file (configs.mergeBody answers
 * Content with PartialContent), so the stand-in's override file no longer touches provider blocks.
 * Returns undefined where /proc is not there or the peer is not found.
 */
export function peerEndpoint(peer: string): string | undefined {
  const pid = peerPid(peer);
  if (!pid) return undefined;
  // The stack directory Terraform runs in names its project (written by writeStandInOverride) ...
  const named = endpointFileIn(`/proc/${pid}/cwd`);
  if (named) return named;
  // ... else Terraform's environment does.
  return variablesOf(pid)?.HCLOUD_ENDPOINT;
}

/**
 * The environment of the Terraform process on the other end of a loopback connection, or undefined
 * where it cannot be read (no /proc, or the peer not found).
 *
 * The real provider, launched by Terraform, reads HCLOUD_TOKEN from the environment it inherits; a
 * reattached stand-in was started by someone else, so it reads the variable where the real provider's
 * would come from: the Terraform process it serves.
 */
export function peerEnvironment(peer: string): Readonly<Record<string, string>> | undefined {
  const pid = peerPid(peer);
  return pid ? variablesOf(pid) : undefined;
}

/**
 * The owner of each client connection seen, by peer (`ipv4:127.0.0.1:port`), with the descriptor that
 * held its socket. Terraform validates and configures over one connection, so one scan of /proc serves
 * every call on it. A hit is checked against that process's open files alone: while that descriptor still holds
 * the same socket, the connection is open and its port cannot belong to another one.
 */
const ownerByPeer = new Map<string, SocketOwner>();

interface SocketOwner { readonly pid: number; readonly fd: string; readonly inode: string }

/**
 * Where this stand-in listens (`127.0.0.1:port`), set once it does. A client's port alone does not name its
 * connection: two Terraform processes can use the same local port towards two stand-ins (two test workers),
 * and the one found first was read for the token and the project, another test's.
 */
let listeningAt: { ip: string; port: number } | undefined;

/** Tells the lookups below which server end a client connection of this stand-in has. */
export function setListeningAddress(ip: string, port: number): void {
  listeningAt = { ip, port };
}

/** The process owning the client end of a loopback connection (`ipv4:127.0.0.1:port`), on Linux. */
function peerPid(peer: string): number | undefined {
  const known = ownerByPeer.get(peer);
  if (known && stillHolds(known)) return known.pid;
  const m = /(?:^|:)(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(peer);
  if (!m) return undefined;
  const inode = socketInode(m[1], Number(m[2]));
  if (!inode) return undefined;
  const owner = ownerOf(inode);
  if (owner !== undefined) {
    if (ownerByPeer.size > 1000) ownerByPeer.clear();
    ownerByPeer.set(peer, owner);
  }
  return owner?.pid;
}

function stillHolds(owner: SocketOwner): boolean {
  return openFile(owner.pid, owner.fd) === `socket:[${owner.inode}]`;
}

/** The environment of `pid` by name (undefined where it cannot be read). */
function variablesOf(pid: number): Record<string, string> | undefined {
  const entries = environmentOf(pid, 'wait')?.filter((e) => e.includes('='));
  return entries && Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** The file beside a stack that names its simulated project (a `file://` URL); Terraform ignores it. */
export const ENDPOINT_FILE = '.hcloud-standin-endpoint';

/** The endpoint named in a directory's ENDPOINT_FILE, if there is one. */
export function endpointFileIn(dir: string): string | undefined {
  try {
    const text = fs.readFileSync(`${dir}/${ENDPOINT_FILE}`, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The inode of the established TCP socket whose local end is `ip:port` (the client's end) and, once known, whose remote end is this stand-in. */
function socketInode(ip: string, port: number): string | undefined {
  const local = tcpAddress(ip, port);
  const remote = listeningAt ? tcpAddress(listeningAt.ip, listeningAt.port) : undefined;
  return tcpSockets().find((s) => s.local === local && (remote === undefined || s.remote === remote) && s.state === '01')?.inode;
}

function ownerOf(inode: string): SocketOwner | undefined {
  const target = `socket:[${inode}]`;
  const owner = holders((t) => t === target).next();
  return owner.done ? undefined : { pid: owner.value.pid, fd: owner.value.fd, inode };
}
