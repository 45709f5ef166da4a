import { Size } from '../core/size';
import type { RoadmapAssessment } from '../roadmap/roadmap';
import { Phase } from '../roadmap/phase';
import { fail, requireInstance } from '../core/runtime-checks';
import { missingValue, ValidationError } from '../core/validation-message';

/** Where production's data directory lives: the root disk, or a volume. */
export class DatabaseStorage {
  /** The roadmap's default: the root disk in Phase 1 and 2, a 50 GiB volume from Phase 3. */
  public static readonly PHASE_DEFAULT = new DatabaseStorage('phase-default', Size.gibibytes(50));

  /** The root disk, whatever the phase. */
  public static rootDisk(): DatabaseStorage {
    return new DatabaseStorage('root-disk', undefined);
  }

  /**
   * A volume of the given size for the data directory. Before Phase 2 the data volume is a
   * postponed component: adopt it early with a reason (`earlyAdoptions`).
   */
  public static volume(size: Size = Size.gibibytes(50)): DatabaseStorage {
    return new DatabaseStorage('volume', checkVolumeSize('DatabaseStorage.volume', size));
  }

  /**
   * A volume when the roadmap's assessment of the measured database size and growth says the
   * disk threshold is crossed (`attach-volume` or `split-app-db`), otherwise the phase's default.
   */
  public static fromAssessment(assessment: RoadmapAssessment, size: Size = Size.gibibytes(50)): DatabaseStorage {
    checkVolumeSize('DatabaseStorage.fromAssessment', size);
    checkAssessment(assessment);
    const crossed = assessment.changes.find((c) => c.id === 'attach-volume' || c.id === 'split-app-db');
    return crossed ? new DatabaseStorage('volume', size, crossed.reason) : new DatabaseStorage('phase-default', size);
  }

  private constructor(
    /** Which rule decides: the phase's default, the root disk always, or a volume always. */
    public readonly kind: 'phase-default' | 'root-disk' | 'volume',
    private readonly size: Size | undefined,
    /** Why the volume came early, when an assessment called for it. */
    public readonly reason?: string,
  ) {}

  /** The volume size for a phase, or undefined for the root disk. */
  public volumeSizeFor(phase: Phase): Size | undefined {
    if (this.kind === 'root-disk') return undefined;
    if (this.kind === 'volume') return this.size;
    return phase.number >= 3 ? this.size : undefined;
  }

  /** Where the data directory lives, in words, for messages and the report. */
  public toString(): string {
    return this.kind === 'root-disk' ? 'root disk' : this.kind === 'volume' ? `volume of ${this.size}` : `root disk until Phase 3, then a volume of ${this.size}`;
  }
}

const ASSESSMENT_FIX = 'pass what Roadmap.assess returns: DatabaseStorage.fromAssessment(Roadmap.assess({ … measured metrics … }))';

/** An assessment, not the metrics it was made from: a JavaScript caller's mix-up would otherwise be a TypeError. */
function checkAssessment(assessment: unknown): void {
  const at = 'DatabaseStorage.fromAssessment';
  if (assessment === undefined || assessment === null) throw new ValidationError(missingValue(at, 'assessment', "the roadmap's assessment decides whether the data needs a volume", ASSESSMENT_FIX));
  if (typeof assessment !== 'object' || !Array.isArray((assessment as { changes?: unknown }).changes)) {
    fail(at, 'assessment', assessment, "it is not the roadmap's assessment (that has a list of changes)", ASSESSMENT_FIX);
  }
}

/**
 * The volume size, checked where it is written: a JavaScript caller's 50 (meant as GiB) or a size
 * Hetzner cannot make was otherwise refused only in production's stack, at a construct the caller never named.
 */
function checkVolumeSize(at: string, size: unknown): Size {
  const checked = requireInstance(at, 'size', size, Size, 'pass a Size, such as Size.gibibytes(50)');
  const gib = checked.toMebibytes() / 1024;
  if (!Number.isInteger(gib) || gib < 10 || gib > 10 * 1024) fail(at, 'size', checked, 'Hetzner volumes are 10 GiB to 10 TiB, in whole GiB', 'pass a size such as Size.gibibytes(50)');
  return checked;
}
