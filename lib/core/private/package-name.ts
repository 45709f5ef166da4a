/**
 * This package's npm name, the one place it is written for code to read. The CDK Terrain build rewrites it to
 * cdktn-sovereign-hetzner (scripts/build-cdktn.js rewrites `PACKAGE_NAME = '…'`, the first in a file), so what
 * names or finds the package (synth errors, the testing helpers) names the one it runs in.
 */
export const PACKAGE_NAME = 'cdktf-sovereign-hetzner';
