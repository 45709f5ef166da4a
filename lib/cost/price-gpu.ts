import HETZNER_PRICES from './hetzner-prices.json';

/** A dedicated GPU server's price, with the date and sources it comes from. */
export interface GpuServerPrice {
  /** Hetzner's product name, such as `gex44`. */
  readonly name: string;
  /** The GPU and its memory. */
  readonly gpu: string;
  /** Net EUR a month. */
  readonly monthly: number;
  /** Net EUR, once, at order. */
  readonly setupFee: number;
  /** When the figure was seen, `YYYY-MM` or `YYYY-MM-DD`. */
  readonly asOf: string;
  /** False while no dated source confirms the figure. */
  readonly verified: boolean;
  /** Ids of the price file's `sources` the figure rests on. */
  readonly sources: readonly string[];
  /** What to check before relying on the figure. */
  readonly note: string;
}

interface GpuData {
  readonly note: string;
  readonly verified: boolean;
  readonly servers: Record<string, { gpu: string; monthly: number; setupFee: number; asOf: string; sources: string[] }>;
}

/** The names of the dedicated GPU servers the price file prices, such as `gex44`. */
export function gpuServerNames(data: unknown = HETZNER_PRICES): string[] {
  return Object.keys((data as { dedicatedGpuServers?: GpuData }).dedicatedGpuServers?.servers ?? {});
}

/**
 * The dedicated GPU servers of the price file (`dedicatedGpuServers`), for pricing self-hosted
 * inference. Throws naming the known servers for an unknown one.
 */
export function gpuServerPrice(name: string, data: unknown = HETZNER_PRICES): GpuServerPrice {
  // Reached with a name the roadmap checked (RoadmapMetrics.selfHostingGpuServer) or the library's own;
  // the other throws guard the price file the library ships, not user input.
  const gpu = (data as { dedicatedGpuServers?: GpuData }).dedicatedGpuServers;
  const server = gpu?.servers?.[name];
  if (!gpu || !server) {
    throw new Error(`gpuServerPrice: '${name}' is not allowed: the price file has no such GPU server (known: ${Object.keys(gpu?.servers ?? {}).join(', ') || 'none'}). Fix: use one of these: the GPU servers priced are those of the price file bundled with the library (dist/lib/cost/hetzner-prices.json in the package), each with its date and source, and one it lacks needs a library release that prices it.`);
  }
  for (const [field, value] of [['monthly', server.monthly], ['setupFee', server.setupFee]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`gpuServerPrice: dedicatedGpuServers.servers.${name}.${field} ${String(value)} is not allowed: a price is a number >= 0. Fix: correct the price file.`);
    }
  }
  if (!/^\d{4}-\d{2}(-\d{2})?$/.test(server.asOf ?? '')) {
    throw new Error(`gpuServerPrice: dedicatedGpuServers.servers.${name}.asOf ${JSON.stringify(server.asOf)} is not allowed: a price needs the date it was seen. Fix: write it as YYYY-MM or YYYY-MM-DD.`);
  }
  return { name, gpu: server.gpu, monthly: server.monthly, setupFee: server.setupFee, asOf: server.asOf, verified: gpu.verified === true, sources: server.sources, note: gpu.note };
}
