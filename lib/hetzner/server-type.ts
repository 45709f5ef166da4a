import { Location } from './location';
import { Size } from '../core/size';

/** CPU architecture of a server type; an image must match it. */
export enum Architecture {
  X86 = 'x86',
  ARM = 'arm',
}

/** Whether the vCPUs are shared with other tenants or dedicated. */
export enum CpuKind {
  SHARED = 'shared',
  DEDICATED = 'dedicated',
}

/** A server type that Hetzner no longer sells in some locations. */
export interface ServerTypeDeprecation {
  /** The last day the type could be ordered, as an ISO date. */
  readonly unavailableAfter: string;
  /** Names of the locations where it can no longer be ordered. */
  readonly locations: string[];
  /** The smallest current type of the same line with at least the same cores and memory. */
  readonly successor: string;
}

interface ServerTypeSpec {
  readonly cores: number;
  readonly memoryGb: number;
  readonly diskGb: number;
  readonly architecture: Architecture;
  readonly cpu: CpuKind;
  readonly locations: string[];
  readonly deprecation?: ServerTypeDeprecation;
}

const EU = ['fsn1', 'nbg1', 'hel1'];
const EU_SIN = [...EU, 'sin'];
const ALL = [...EU, 'ash', 'hil', 'sin'];
// Hetzner stopped selling CX gen2 and (outside the US) CPX gen1 after 2025-12-31.
const CX_GEN2_END = { unavailableAfter: '2025-12-31', locations: EU };
const CPX_GEN1_END = { unavailableAfter: '2025-12-31', locations: EU_SIN };

/**
 * A Hetzner Cloud server type: its size, architecture and where it is sold.
 *
 * Facts from the Hetzner API as of 2026-09-29 (see shared hetzner-facts.json).
 * Availability changes daily (CX and CAX are often sold out in the EU), which is
 * why presets carry fallback lists rather than a single type.
 */
export class ServerType {
  // Cost-optimized, x86 (gen3, 2025-10).
  public static readonly CX23 = ServerType.define('cx23', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CX33 = ServerType.define('cx33', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CX43 = ServerType.define('cx43', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CX53 = ServerType.define('cx53', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  // Cost-optimized, Arm64 (Ampere Altra).
  public static readonly CAX11 = ServerType.define('cax11', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CAX21 = ServerType.define('cax21', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CAX31 = ServerType.define('cax31', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  public static readonly CAX41 = ServerType.define('cax41', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  // Regular performance, AMD (gen2, 2025-10). Not sold in the US.
  public static readonly CPX12 = ServerType.define('cpx12', { cores: 1, memoryGb: 2, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  public static readonly CPX22 = ServerType.define('cpx22', { cores: 2, memoryGb: 4, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  public static readonly CPX32 = ServerType.define('cpx32', { cores: 4, memoryGb: 8, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  public static readonly CPX42 = ServerType.define('cpx42', { cores: 8, memoryGb: 16, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  public static readonly CPX52 = ServerType.define('cpx52', { cores: 12, memoryGb: 24, diskGb: 480, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  public static readonly CPX62 = ServerType.define('cpx62', { cores: 16, memoryGb: 32, diskGb: 640, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  // Dedicated vCPU, AMD (gen3).
  public static readonly CCX13 = ServerType.define('ccx13', { cores: 2, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  public static readonly CCX23 = ServerType.define('ccx23', { cores: 4, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  public static readonly CCX33 = ServerType.define('ccx33', { cores: 8, memoryGb: 32, diskGb: 240, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  public static readonly CCX43 = ServerType.define('ccx43', { cores: 16, memoryGb: 64, diskGb: 360, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  public static readonly CCX53 = ServerType.define('ccx53', { cores: 32, memoryGb: 128, diskGb: 600, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  public static readonly CCX63 = ServerType.define('ccx63', { cores: 48, memoryGb: 192, diskGb: 960, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  // Deprecated: CX gen2 (Intel), no longer sold.
  public static readonly CX22 = ServerType.define('cx22', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx23' } });
  public static readonly CX32 = ServerType.define('cx32', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx33' } });
  public static readonly CX42 = ServerType.define('cx42', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx43' } });
  public static readonly CX52 = ServerType.define('cx52', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx53' } });
  // Deprecated outside the US: CPX gen1 (AMD). Still sold in ash and hil.
  public static readonly CPX11 = ServerType.define('cpx11', { cores: 2, memoryGb: 2, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx22' } });
  public static readonly CPX21 = ServerType.define('cpx21', { cores: 3, memoryGb: 4, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx32' } });
  public static readonly CPX31 = ServerType.define('cpx31', { cores: 4, memoryGb: 8, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx32' } });
  public static readonly CPX41 = ServerType.define('cpx41', { cores: 8, memoryGb: 16, diskGb: 240, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx42' } });
  public static readonly CPX51 = ServerType.define('cpx51', { cores: 16, memoryGb: 32, diskGb: 360, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx62' } });

  /** Every server type in the catalog, current and deprecated. */
  public static all(): ServerType[] {
    return [...ServerType.catalog.values()];
  }

  /**
   * Looks a server type up by its Hetzner name.
   *
   * An unknown name does not throw here: it returns a type whose `isKnown` is false,
   * and the construct that uses it reports the error at synth, with its path.
   */
  public static of(name: string): ServerType {
    return ServerType.catalog.get(name) ?? new ServerType(name, undefined);
  }

  private static catalog: Map<string, ServerType>;

  private static define(name: string, spec: ServerTypeSpec): ServerType {
    ServerType.catalog ??= new Map();
    const type = new ServerType(name, spec);
    ServerType.catalog.set(name, type);
    return type;
  }

  private constructor(
    /** The API name, such as `cx23`. */
    public readonly name: string,
    private readonly spec: ServerTypeSpec | undefined,
  ) {}

  /** False for a name that is not in the catalog. */
  public get isKnown(): boolean {
    return this.spec !== undefined;
  }

  public get cores(): number {
    return this.known().cores;
  }

  public get memory(): Size {
    return Size.gibibytes(this.known().memoryGb);
  }

  public get disk(): Size {
    return Size.gibibytes(this.known().diskGb);
  }

  public get architecture(): Architecture {
    return this.known().architecture;
  }

  public get cpu(): CpuKind {
    return this.known().cpu;
  }

  /** The locations where the type exists (sold or still billed). */
  public get locationNames(): string[] {
    return [...this.known().locations];
  }

  /** Deprecation facts, if the type is deprecated anywhere. */
  public get deprecation(): ServerTypeDeprecation | undefined {
    return this.known().deprecation;
  }

  /** Whether the type exists in a location at all. */
  public isOfferedIn(location: Location): boolean {
    return this.known().locations.includes(location.name);
  }

  /** Whether the type can no longer be ordered in a location. */
  public isDeprecatedIn(location: Location): boolean {
    return this.deprecation?.locations.includes(location.name) ?? false;
  }

  /** The type to move to, where this one is deprecated. */
  public get successor(): ServerType | undefined {
    const name = this.deprecation?.successor;
    return name === undefined ? undefined : ServerType.of(name);
  }

  public toString(): string {
    return this.name;
  }

  private known(): ServerTypeSpec {
    if (this.spec === undefined) {
      throw new Error(`ServerType '${this.name}' is not in the catalog. Fix: use one of ${ServerType.all().map((t) => t.name).join(', ')}.`);
    }
    return this.spec;
  }
}
