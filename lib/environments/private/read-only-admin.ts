import { Peer } from '../../core/peer';
import { AdminAccess } from '../admin-access';

/**
 * A frozen copy of checked admin access (its key maps and networks copied too), as `Product.admin` hands it out:
 * the caller's object, and the product's own, could otherwise be edited after the product checked them (a block
 * pushed onto `cidrs` that opens SSH to the internet, a key swapped in).
 * @internal
 */
export function readOnlyAdmin(admin: AdminAccess): AdminAccess {
  const keys = (map: Record<string, string> | undefined) => map && Object.freeze({ ...map });
  const own = admin.environmentSshPublicKeys;
  return Object.freeze({
    sshPublicKeys: keys(admin.sshPublicKeys)!,
    cidrs: Object.freeze([...admin.cidrs]) as Array<Peer | string>,
    ...(own !== undefined ? { environmentSshPublicKeys: Object.freeze({ ...(own.test ? { test: keys(own.test) } : {}), ...(own.production ? { production: keys(own.production) } : {}) }) } : {}),
    ...(admin.hostKeys !== undefined ? { hostKeys: keys(admin.hostKeys) } : {}),
  });
}
