import * as http from 'http';
import { listenOnFreePort } from '../../setup/ports';

export interface Ping {
  readonly path: string;
  readonly body: string;
}

/** A local Healthchecks stand-in: records every ping (path and body) and answers 200. */
export class HeartbeatReceiver {
  public static async start(): Promise<HeartbeatReceiver> {
    const receiver = new HeartbeatReceiver();
    receiver._port = await listenOnFreePort(receiver.server);
    return receiver;
  }

  public readonly pings: Ping[] = [];
  private readonly server: http.Server;
  private _port = 0;

  private constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.pings.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
      });
    });
  }

  /** The port the kernel gave it on 127.0.0.1. */
  public get port(): number {
    return this._port;
  }

  /** The base URL a heartbeat variable holds (the part before the check's slug). */
  public get url(): string {
    return `http://127.0.0.1:${this.port}/ping/test-ping-key`;
  }

  /** Pings received from index `from` on. */
  public since(from: number): Ping[] {
    return this.pings.slice(from);
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
