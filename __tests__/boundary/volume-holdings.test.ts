import { Volume } from '../../generated/providers/hcloud/volume';
import { VolumeAttachment } from '../../generated/providers/hcloud/volume-attachment';
import { DataClass, DataVolume, Size } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (what a server holds): Boundary-RestrictedEgress judged a server by its own classes. A public machine (no
// egress allowlist: egress open to every address) with a DataVolume holding sensitive data passed synth, though the
// server mounts the volume and can send everything on it anywhere; so did a raw volume, declaring nothing, attached to it.

const NO_BACKUP = 'Uploads are re-fetched from the tenants on loss';

describe('a server holds what the volumes attached to it hold', () => {
  test('a public machine with a sensitive DataVolume is refused, naming the server, the volume and the fix', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    new DataVolume(stack, 'Uploads', { machine: web, size: Size.gibibytes(20), dataClasses: [DataClass.SENSITIVE], withoutBackup: NO_BACKUP });
    expect(synthErrors(stack)).toMatch(
      /Boundary-RestrictedEgress: production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive \(on production\/Uploads\/Resource, attached to it\) data and its firewall has no outbound rules\. Fix: apply EgressAllowlist to the machine/);
  });

  test('a raw volume that declares nothing, attached with the generated bindings, counts as sensitive', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    const raw = new Volume(stack, 'Scratch', { name: 'scratch', size: 10, location: 'fsn1' });
    new VolumeAttachment(stack, 'ScratchAttachment', { serverId: web.server.id as unknown as number, volumeId: raw.id as unknown as number });
    expect(synthErrors(stack)).toMatch(/production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive \(on production\/Scratch, attached to it\) data/);
  });

  test('a volume of another stack beside a secret volume: the finding names the secret class and both', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    new VolumeAttachment(stack, 'ForeignAttachment', { serverId: web.server.id as unknown as number, volumeId: 4711 });
    new DataVolume(stack, 'Keys', { machine: web, size: Size.gibibytes(10), dataClasses: [DataClass.SECRET], withoutBackup: NO_BACKUP });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds secret/);
    expect(errors).toContain('production/Keys/Resource');
    expect(errors).toContain('production/ForeignAttachment (a volume not in this stack)');
  });

  test('a volume the machine\'s own classes cover passes: public on public, sensitive under the allowlist', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    new DataVolume(stack, 'Assets', { machine: web, size: Size.gibibytes(20), dataClasses: [DataClass.PUBLIC], withoutBackup: NO_BACKUP });
    const app = machine(stack, 'App', { role: 'worker' });
    new DataVolume(stack, 'Data', { machine: app, size: Size.gibibytes(20), withoutBackup: NO_BACKUP });
    expect(synthErrors(stack)).toBe('');
  });
});
