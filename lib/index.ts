// Public API of cdktf-sovereign-hetzner. Re-exports only.

// Core value types
export * from './core/data-class';
export * from './core/duration';
export * from './core/environment';
export * from './core/size';
export { ValidationError } from './core/validation-message';

// Hetzner building blocks
export * from './hetzner/cloud-init';
export * from './hetzner/firewall-rule';
export * from './hetzner/location';
export * from './hetzner/machine';
export * from './hetzner/object-storage-backend';
export * from './hetzner/private-network';
export * from './hetzner/server-type';
export * from './hetzner/ssh-key';
