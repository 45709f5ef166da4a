import { IConstruct } from 'constructs';

/** What a backup of a machine covers, as recorded by the backup constructs. */
export interface VolumeBackupCoverage {
  /** The construct that backs the paths up, named in messages. */
  readonly by: IConstruct;
  /** Directories backed up as files; they cover a volume mounted at or below them. */
  readonly filePaths?: readonly string[];
  /** Data directories of dumped databases; a dump covers a volume the database lives on. */
  readonly databaseDirectories?: readonly string[];
}

const coverage = new WeakMap<IConstruct, VolumeBackupCoverage[]>();

/**
 * Records what a backup covers on a machine; a `DataVolume` checks the records at synth. Only the
 * backup constructs call this, from inside the library: a public way to record coverage would let
 * anyone silence the "no backup covers this volume" error without a backup.
 */
export function recordVolumeBackup(machine: IConstruct, covered: VolumeBackupCoverage): void {
  coverage.set(machine, [...(coverage.get(machine) ?? []), covered]);
}

/** What the backups recorded so far cover on the machine. */
export function volumeBackupsOf(machine: IConstruct): readonly VolumeBackupCoverage[] {
  return coverage.get(machine) ?? [];
}
