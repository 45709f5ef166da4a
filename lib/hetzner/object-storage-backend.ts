import { Construct } from 'constructs';
import { S3Backend, TerraformStack } from 'cdktf';
import { invalidValue, ValidationError } from '../core/validation-message';
import { Location } from './location';

/** Where Hetzner Object Storage is offered. */
const OBJECT_STORAGE_LOCATIONS = [Location.FSN1, Location.NBG1, Location.HEL1];

export interface ObjectStorageBackendProps {
  /** The bucket holding the state; create it once, by hand or in a bootstrap stack. */
  readonly bucket: string;
  /**
   * The object key of this stack's state.
   * @default `${stack name}/terraform.tfstate`
   */
  readonly key?: string;
  /**
   * The Object Storage location of the bucket.
   * @default Location.FSN1
   */
  readonly location?: Location;
}

/**
 * Terraform state in Hetzner Object Storage (S3-compatible, in the EU), with locking.
 *
 * State holds every attribute of every resource, secrets included: it is data of the
 * most sensitive class and stays in the EU like the rest. Credentials are never part
 * of the configuration; Terraform reads them from `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` (an Object Storage key pair).
 */
export class ObjectStorageBackend extends S3Backend {
  /** The location the state lives in. */
  public readonly location: Location;

  constructor(scope: Construct, props: ObjectStorageBackendProps) {
    const location = props.location ?? Location.FSN1;
    const stack = TerraformStack.of(scope);
    super(scope, {
      bucket: props.bucket,
      key: props.key ?? `${stack.node.id}/terraform.tfstate`,
      region: location.name,
      endpoints: { s3: `https://${location.name}.your-objectstorage.com` },
      // Hetzner is not AWS: skip the AWS-only account, region and checksum calls.
      skipCredentialsValidation: true,
      skipRegionValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipS3Checksum: true,
      usePathStyle: true,
    });
    this.location = location;
    if (!OBJECT_STORAGE_LOCATIONS.includes(location)) {
      throw new ValidationError(invalidValue(stack, 'stateBackend.location', location.name,
        'Hetzner Object Storage exists only in fsn1, nbg1 and hel1, and state must stay in the EU', 'use Location.FSN1, Location.NBG1 or Location.HEL1'));
    }
    // S3-native locking (Terraform >= 1.10): a lock file beside the state, no DynamoDB needed.
    this.addOverride('use_lockfile', true);
  }
}
