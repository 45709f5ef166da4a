import { Location } from './location';
import { Size } from '../core/size';
import { requireInstance } from '../core/runtime-checks';
import { invalidValue, ValidationError } from '../core/validation-message';

/** CPU architecture of a server type; an image must match it. */
export enum Architecture {
  /** Intel or AMD x86-64. */
  X86 = 'x86',
  /** Ampere Arm64 (the CAX line). */
  ARM = 'arm',
}

/** Whether the vCPUs are shared with other tenants or dedicated. */
export enum CpuKind {
  /** vCPUs shared with other customers (CX, CAX, CPX). */
  SHARED = 'shared',
  /** vCPUs dedicated to the server (CCX). */
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
  /** `cx23`: 2 shared x86 vCPUs, 4 GB RAM, 40 GB disk; sold in EU locations. */
  public static readonly CX23 = ServerType.define('cx23', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  /** `cx33`: 4 shared x86 vCPUs, 8 GB RAM, 80 GB disk; sold in EU locations. */
  public static readonly CX33 = ServerType.define('cx33', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  /** `cx43`: 8 shared x86 vCPUs, 16 GB RAM, 160 GB disk; sold in EU locations. */
  public static readonly CX43 = ServerType.define('cx43', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  /** `cx53`: 16 shared x86 vCPUs, 32 GB RAM, 320 GB disk; sold in EU locations. */
  public static readonly CX53 = ServerType.define('cx53', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU });
  // Cost-optimized, Arm64 (Ampere Altra).
  /** `cax11`: 2 shared Arm vCPUs, 4 GB RAM, 40 GB disk; sold in EU locations. */
  public static readonly CAX11 = ServerType.define('cax11', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  /** `cax21`: 4 shared Arm vCPUs, 8 GB RAM, 80 GB disk; sold in EU locations. */
  public static readonly CAX21 = ServerType.define('cax21', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  /** `cax31`: 8 shared Arm vCPUs, 16 GB RAM, 160 GB disk; sold in EU locations. */
  public static readonly CAX31 = ServerType.define('cax31', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  /** `cax41`: 16 shared Arm vCPUs, 32 GB RAM, 320 GB disk; sold in EU locations. */
  public static readonly CAX41 = ServerType.define('cax41', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.ARM, cpu: CpuKind.SHARED, locations: EU });
  // Regular performance, AMD (gen2, 2025-10). Not sold in the US.
  /** `cpx12`: 1 shared x86 vCPUs, 2 GB RAM, 40 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX12 = ServerType.define('cpx12', { cores: 1, memoryGb: 2, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  /** `cpx22`: 2 shared x86 vCPUs, 4 GB RAM, 80 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX22 = ServerType.define('cpx22', { cores: 2, memoryGb: 4, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  /** `cpx32`: 4 shared x86 vCPUs, 8 GB RAM, 160 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX32 = ServerType.define('cpx32', { cores: 4, memoryGb: 8, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  /** `cpx42`: 8 shared x86 vCPUs, 16 GB RAM, 320 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX42 = ServerType.define('cpx42', { cores: 8, memoryGb: 16, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  /** `cpx52`: 12 shared x86 vCPUs, 24 GB RAM, 480 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX52 = ServerType.define('cpx52', { cores: 12, memoryGb: 24, diskGb: 480, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  /** `cpx62`: 16 shared x86 vCPUs, 32 GB RAM, 640 GB disk; sold in EU locations and Singapore. */
  public static readonly CPX62 = ServerType.define('cpx62', { cores: 16, memoryGb: 32, diskGb: 640, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU_SIN });
  // Dedicated vCPU, AMD (gen3).
  /** `ccx13`: 2 dedicated x86 vCPUs, 8 GB RAM, 80 GB disk; sold in every location. */
  public static readonly CCX13 = ServerType.define('ccx13', { cores: 2, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  /** `ccx23`: 4 dedicated x86 vCPUs, 16 GB RAM, 160 GB disk; sold in every location. */
  public static readonly CCX23 = ServerType.define('ccx23', { cores: 4, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  /** `ccx33`: 8 dedicated x86 vCPUs, 32 GB RAM, 240 GB disk; sold in every location. */
  public static readonly CCX33 = ServerType.define('ccx33', { cores: 8, memoryGb: 32, diskGb: 240, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  /** `ccx43`: 16 dedicated x86 vCPUs, 64 GB RAM, 360 GB disk; sold in every location. */
  public static readonly CCX43 = ServerType.define('ccx43', { cores: 16, memoryGb: 64, diskGb: 360, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  /** `ccx53`: 32 dedicated x86 vCPUs, 128 GB RAM, 600 GB disk; sold in every location. */
  public static readonly CCX53 = ServerType.define('ccx53', { cores: 32, memoryGb: 128, diskGb: 600, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  /** `ccx63`: 48 dedicated x86 vCPUs, 192 GB RAM, 960 GB disk; sold in every location. */
  public static readonly CCX63 = ServerType.define('ccx63', { cores: 48, memoryGb: 192, diskGb: 960, architecture: Architecture.X86, cpu: CpuKind.DEDICATED, locations: ALL });
  // Deprecated: CX gen2 (Intel), no longer sold.
  /** `cx22`: 2 shared x86 vCPUs, 4 GB RAM, 40 GB disk; sold in EU locations. Being retired (see `deprecation` for where and when); its successor is `cx23`. */
  public static readonly CX22 = ServerType.define('cx22', { cores: 2, memoryGb: 4, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx23' } });
  /** `cx32`: 4 shared x86 vCPUs, 8 GB RAM, 80 GB disk; sold in EU locations. Being retired (see `deprecation` for where and when); its successor is `cx33`. */
  public static readonly CX32 = ServerType.define('cx32', { cores: 4, memoryGb: 8, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx33' } });
  /** `cx42`: 8 shared x86 vCPUs, 16 GB RAM, 160 GB disk; sold in EU locations. Being retired (see `deprecation` for where and when); its successor is `cx43`. */
  public static readonly CX42 = ServerType.define('cx42', { cores: 8, memoryGb: 16, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx43' } });
  /** `cx52`: 16 shared x86 vCPUs, 32 GB RAM, 320 GB disk; sold in EU locations. Being retired (see `deprecation` for where and when); its successor is `cx53`. */
  public static readonly CX52 = ServerType.define('cx52', { cores: 16, memoryGb: 32, diskGb: 320, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: EU, deprecation: { ...CX_GEN2_END, successor: 'cx53' } });
  // Deprecated outside the US: CPX gen1 (AMD). Still sold in ash and hil.
  /** `cpx11`: 2 shared x86 vCPUs, 2 GB RAM, 40 GB disk; sold in every location. Being retired (see `deprecation` for where and when); its successor is `cpx22`. */
  public static readonly CPX11 = ServerType.define('cpx11', { cores: 2, memoryGb: 2, diskGb: 40, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx22' } });
  /** `cpx21`: 3 shared x86 vCPUs, 4 GB RAM, 80 GB disk; sold in every location. Being retired (see `deprecation` for where and when); its successor is `cpx32`. */
  public static readonly CPX21 = ServerType.define('cpx21', { cores: 3, memoryGb: 4, diskGb: 80, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx32' } });
  /** `cpx31`: 4 shared x86 vCPUs, 8 GB RAM, 160 GB disk; sold in every location. Being retired (see `deprecation` for where and when); its successor is `cpx32`. */
  public static readonly CPX31 = ServerType.define('cpx31', { cores: 4, memoryGb: 8, diskGb: 160, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx32' } });
  /** `cpx41`: 8 shared x86 vCPUs, 16 GB RAM, 240 GB disk; sold in every location. Being retired (see `deprecation` for where and when); its successor is `cpx42`. */
  public static readonly CPX41 = ServerType.define('cpx41', { cores: 8, memoryGb: 16, diskGb: 240, architecture: Architecture.X86, cpu: CpuKind.SHARED, locations: ALL, deprecation: { ...CPX_GEN1_END, successor: 'cpx42' } });
  /** `cpx51`: 16 shared x86 vCPUs, 32 GB RAM, 360 GB disk; sold in every location. Being retired (see `deprecation` for where and when); its successor is `cpx62`. */
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

  /** Number of vCPUs. */
  public get cores(): number {
    return this.known('cores').cores;
  }

  /** Memory. */
  public get memory(): Size {
    return Size.gibibytes(this.known('memory').memoryGb);
  }

  /** Local disk. */
  public get disk(): Size {
    return Size.gibibytes(this.known('disk').diskGb);
  }

  /** CPU architecture. */
  public get architecture(): Architecture {
    return this.known('architecture').architecture;
  }

  /** Shared or dedicated vCPUs. */
  public get cpu(): CpuKind {
    return this.known('cpu').cpu;
  }

  /** The locations where the type exists (sold or still billed). */
  public get locationNames(): string[] {
    return [...this.known('locationNames').locations];
  }

  /** Deprecation facts, if the type is deprecated anywhere. */
  public get deprecation(): ServerTypeDeprecation | undefined {
    return this.known('deprecation').deprecation;
  }

  /** Whether the type exists in a location at all. */
  public isOfferedIn(location: Location): boolean {
    // From JavaScript, 'fsn1' (the name, not Location.FSN1) answered false: offered nowhere.
    requireInstance('ServerType.isOfferedIn', 'location', location, Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1 (the object, not its name)', 'a Location');
    return this.known('isOfferedIn').locations.includes(location.name);
  }

  /** Whether the type can no longer be ordered in a location. */
  public isDeprecatedIn(location: Location): boolean {
    requireInstance('ServerType.isDeprecatedIn', 'location', location, Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1 (the object, not its name)', 'a Location');
    return this.deprecation?.locations.includes(location.name) ?? false;
  }

  /** The type to move to, where this one is deprecated. */
  public get successor(): ServerType | undefined {
    const name = this.deprecation?.successor;
    return name === undefined ? undefined : ServerType.of(name);
  }

  /** The API name, such as `cx23`. */
  public toString(): string {
    return this.name;
  }

  /** The catalog's facts; reading them from a type `of` did not find is a ValidationError naming what was read. */
  private known(prop: string): ServerTypeSpec {
    if (this.spec === undefined) {
      throw new ValidationError(invalidValue(`ServerType(${this.name})`, prop, this.name, 'it is not in the catalog, so the library knows nothing about it',
        `use one of ${ServerType.all().map((t) => t.name).join(', ')} (a ServerType constant such as ServerType.CX33)`));
    }
    return this.spec;
  }
}
