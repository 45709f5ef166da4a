import { ServerType } from '../hetzner/server-type';
import { requireInstance } from '../core/runtime-checks';

/**
 * Memory and connection settings derived from a server type, so that rescaling the machine
 * re-tunes PostgreSQL on the next deploy (the drop-in changes, the rollout restarts the server).
 *
 * The database shares the machine with the app (Phase 1-3), so it takes a quarter of the memory
 * for its buffers and counts on half as OS cache; connections grow with the cores.
 */
export class PostgresTuning {
  /** The settings for a server type, from its memory and cores: the database's share of a machine it shares with the app. */
  public static forServerType(type: ServerType): PostgresTuning {
    // A JavaScript caller's 'cx33' would otherwise fail deep inside with a TypeError.
    requireInstance('PostgresTuning.forServerType', 'type', type, ServerType, "pass a ServerType, such as ServerType.CX33 (ServerType.of('cx33') for a name held as text)");
    const memory = type.memory.toMebibytes();
    const cores = type.cores;
    const maxConnections = clamp(20 + 20 * cores, 60, 400);
    const sharedBuffers = Math.floor(memory / 4);
    return new PostgresTuning(type.name, {
      maxConnections,
      sharedBuffersMb: sharedBuffers,
      effectiveCacheSizeMb: Math.floor(memory / 2),
      maintenanceWorkMemMb: clamp(Math.floor(memory / 16), 64, 2048),
      // Two sorts per connection at most before spilling to disk, within the buffers' quarter.
      workMemMb: clamp(Math.floor(sharedBuffers / maxConnections / 2), 4, 256),
      maxWorkerProcesses: Math.max(8, cores),
      maxParallelWorkers: cores,
      maxParallelWorkersPerGather: clamp(Math.floor(cores / 2), 1, 4),
    });
  }

  private constructor(
    /** The server type the settings are for. */
    public readonly serverType: string,
    private readonly values: {
      maxConnections: number; sharedBuffersMb: number; effectiveCacheSizeMb: number; maintenanceWorkMemMb: number; workMemMb: number;
      maxWorkerProcesses: number; maxParallelWorkers: number; maxParallelWorkersPerGather: number;
    },
  ) {}

  /** `max_connections`: 20 per core plus 20, from 60 to 400. */
  public get maxConnections(): number { return this.values.maxConnections; }
  /** `shared_buffers` in MiB: a quarter of the server type's memory. */
  public get sharedBuffersMb(): number { return this.values.sharedBuffersMb; }

  /** The settings as `postgresql.conf` lines, in a stable order. */
  public toSettings(): Array<[string, string | number]> {
    const v = this.values;
    return [
      ['max_connections', v.maxConnections],
      ['shared_buffers', `${v.sharedBuffersMb}MB`],
      ['effective_cache_size', `${v.effectiveCacheSizeMb}MB`],
      ['maintenance_work_mem', `${v.maintenanceWorkMemMb}MB`],
      ['work_mem', `${v.workMemMb}MB`],
      ['max_worker_processes', v.maxWorkerProcesses],
      ['max_parallel_workers', v.maxParallelWorkers],
      ['max_parallel_workers_per_gather', v.maxParallelWorkersPerGather],
      // Local NVMe and Hetzner volumes are SSD-backed: random reads cost little more than sequential ones.
      ['random_page_cost', '1.1'],
      ['effective_io_concurrency', 200],
    ];
  }

  /** The server type and the two settings that matter most, for messages and the report. */
  public toString(): string {
    return `tuned for ${this.serverType}: shared_buffers ${this.values.sharedBuffersMb}MB, max_connections ${this.values.maxConnections}`;
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
