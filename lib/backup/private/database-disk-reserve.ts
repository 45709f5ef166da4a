import { Size } from '../../core/size';

/**
 * What a restore leaves free on the disk of the PostgreSQL it restores into (its data directory and its write-ahead
 * log): a server whose disk fills stops and starts again only once space is freed by hand. A new WAL segment takes
 * 16 MiB at once, and the server's other databases keep writing meanwhile. One value for the restore drill (the
 * test machine's server) and backup-restore (production's, after a loss).
 */
export const DATABASE_DISK_RESERVE = Size.mebibytes(256);
