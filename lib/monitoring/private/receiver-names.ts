// A receiver's name and the secret variable it picks: the construct checks the name, and the setup on the machine
// knows by the same pattern which files under secrets/ are the SMTP passwords it derived.

/** A receiver's name (it names its secret variable, its Alertmanager receiver and its files). */
export const RECEIVER_NAME = /^[a-z][a-z0-9_]{0,30}$/;

/** The secret variable of an e-mail receiver's SMTP password is this followed by the receiver's name. */
export const SMTP_PASSWORD_PREFIX = 'monitoring_smtp_password_';

/** The name of every SMTP password file the setup derives (secrets/<variable>): a prefix, then a receiver's name. */
export const SMTP_PASSWORD_FILE = new RegExp(`^${SMTP_PASSWORD_PREFIX}${RECEIVER_NAME.source.slice(1)}`);
