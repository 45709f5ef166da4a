// The names by which a stack directory and an environment are recognized as the stand-in's, kept apart from the
// stand-in itself so that the CLI (check) can read them without loading any of it.

/**
 * The API token Terraform gets from the stand-in's environment: 64 characters, the only shape the real
 * provider checks (hcloud/provider.go:42), and plainly not a Hetzner token. The real provider refuses
 * to configure without a token (hcloud/plugin_provider.go:144), and so does the stand-in.
 */
export const STAND_IN_TOKEN = 'stand-in'.repeat(8);

/** The override file the stand-in puts beside a synthesized stack. */
export const OVERRIDE_FILE = 'hcloud_standin_override.tf.json';
