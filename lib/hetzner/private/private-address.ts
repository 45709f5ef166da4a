import type { IMachine } from '../machine';

/**
 * How long a service that listens on the machine's private address waits for it at start: Hetzner's private
 * network comes up after network-online.target, so without the wait the service would bind too early.
 */
export const ADDRESS_WAIT_SECONDS = 120;

/**
 * The start timeout of a unit that waits for the address (TimeoutStartSec=, in seconds): the wait, and a minute for
 * the service itself. systemd's default of 90 s would stop the wait first (and a restart by a deploy with it), where
 * the unit sets none.
 */
export const ADDRESS_WAIT_START_TIMEOUT_SECONDS = ADDRESS_WAIT_SECONDS + 60;

/**
 * A command, as a unit file writes it (`$$` is systemd's escape of `$`), that exits 0 once `address` is on an
 * interface, or 1 after about `seconds`. `address` may be a Terraform reference (a file filled in at deploy).
 */
export function waitForAddressCommand(address: string, seconds: number): string {
  return `/bin/sh -c 'i=0; until ip -o addr show | grep -qF " ${address}/"; do i=$$((i+1)); [ $$i -le ${seconds} ] || exit 1; sleep 1; done'`;
}

/**
 * The machine's address in its private network: the pinned one (`MachineProps.privateIp`) when it has one, so the
 * files that name it read as text; otherwise the server's, known at deploy. Undefined without a private network.
 */
export function privateAddressOf(machine: IMachine): string | undefined {
  const networks = machine.server.networkInput;
  if (!Array.isArray(networks) || networks.length === 0) return undefined;
  const pinned = networks[0].ip;
  return typeof pinned === 'string' ? pinned : machine.server.network.get(0).ip;
}
