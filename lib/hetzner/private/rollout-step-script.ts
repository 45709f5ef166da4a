/**
 * Where Terraform writes each `remote-exec` step before running it as root. Its default is
 * `/tmp/terraform_<random>.sh`, mode 0777, left behind (blanked on success, whole on failure): in /tmp any local
 * user may rewrite it between upload and run, hardened machines mount /tmp `noexec` (the step then fails with
 * 126), and audits flag the world-writable files (hashicorp/terraform#24324). /root is root's alone. One name,
 * so that each rollout reuses the one file instead of leaving another: the steps run one after the other, and
 * Terraform's state lock keeps a second deploy from rolling out to the same machine meanwhile.
 */
export const ROLLOUT_STEP_SCRIPT = '/root/.sovereign-rollout-step.sh';
