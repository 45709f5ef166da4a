import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { listenOnFreePort } from '../../../testing/harness/ports';

/** A backup target that accepts connections and never answers, as a Storage Box behind a dead link. */
export interface SilentTarget {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Every connection it accepted, to count. */
  readonly sockets: readonly net.Socket[];
  /** A directory to put first on PATH: its ssh gives up after 2 s instead of ssh's 20 s ConnectTimeout. */
  readonly bin: string;
  /** Ends every connection and stops listening. */
  close(): void;
}

/** Starts a SilentTarget, its quicker ssh written under `dir`. */
export async function silentTarget(dir: string): Promise<SilentTarget> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => { sockets.push(socket); });
  const port = await listenOnFreePort(server);
  const bin = path.join(dir, 'bin-ssh-quick');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'ssh'), '#!/bin/bash\nexec /usr/bin/ssh -o ConnectTimeout=2 "$@"\n', { mode: 0o755 });
  return {
    port, sockets, bin,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
