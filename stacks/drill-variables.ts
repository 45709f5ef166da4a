// The restore drill's variables under their two names, production's and the test stack's. Imports nothing, so that the
// stand-in's placeholders (testing/) can read them without loading the library.

/**
 * The two names of one password: production's read-only drill sub-account is created with the first, and the test
 * stack's restore drill logs in with the second. Each stack stays deployable alone, so each declares its own; a
 * different value in each leaves the weekly drill unable to log in.
 */
export const DRILL_ACCOUNT_PASSWORD_VARIABLES = { production: 'storage_box_drill_password', test: 'production_backup_drill_password' } as const;

/**
 * The offsite bucket's details under their two names: production's plan writes with the first, and the test stack's
 * restore drill reads with the second. The endpoint and the bucket are the same in both; the keys should not be: the
 * drill needs only a read-only key, and the always-on test machine should not hold one that can delete the copy.
 */
export const OFFSITE_DRILL_VARIABLES = {
  endpoint: { production: 'offsite_s3_endpoint', test: 'production_offsite_s3_endpoint' },
  bucket: { production: 'offsite_s3_bucket', test: 'production_offsite_s3_bucket' },
  accessKeyId: { production: 'offsite_s3_access_key_id', test: 'production_offsite_s3_access_key_id' },
  secretAccessKey: { production: 'offsite_s3_secret_access_key', test: 'production_offsite_s3_secret_access_key' },
} as const;

/**
 * The pairs whose two names hold one value: the drill sub-account's password, the offsite endpoint and bucket. (The
 * offsite keys are a pair too, but test's should be a read-only key of its own.)
 */
export const DRILL_VARIABLES_OF_ONE_VALUE: ReadonlyArray<{ readonly production: string; readonly test: string }> = [
  DRILL_ACCOUNT_PASSWORD_VARIABLES, OFFSITE_DRILL_VARIABLES.endpoint, OFFSITE_DRILL_VARIABLES.bucket,
];
