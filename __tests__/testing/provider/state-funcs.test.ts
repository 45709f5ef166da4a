import { ExtData } from '@msgpack/msgpack';
import { applyStoredForms, planStoredForms, userDataHashSum } from '../../../testing/provider/state-funcs';
import { isUnknown, unknownValue } from '../../../testing/provider/values';

// hcloud_server.user_data: StateFunc userDataHashSum and DiffSuppressFunc userDataDiffSuppress of
// hetznercloud/terraform-provider-hcloud v1.68.0, internal/server/resource.go.

const TEXT = '#cloud-config\nruncmd: [echo hi]\n';

describe('planning user_data in its stored form', () => {
  test('a new server plans the hash, both for the plan and for the comparison', () => {
    const { planned, compared } = planStoredForms('hcloud_server', null, { name: 'web', user_data: TEXT });
    expect(planned).toEqual({ name: 'web', user_data: userDataHashSum(TEXT) });
    expect(compared).toEqual(planned);
  });

  test('null stays null; other resource types are untouched', () => {
    expect(planStoredForms('hcloud_server', null, { user_data: null }).planned).toEqual({ user_data: null });
    const volume = { name: 'data', user_data: TEXT };
    expect(planStoredForms('hcloud_volume', null, volume).planned).toBe(volume);
  });

  test('an unknown text plans a plain unknown (not the text\'s refinements), which apply fills with the hash', () => {
    const refined = new ExtData(12, new Uint8Array([0x82, 0x01, 0xc2, 0x02, 0xa4, 0x23, 0x63, 0x6c, 0x6f])); // prefix "#clo"
    const { planned } = planStoredForms('hcloud_server', null, { user_data: refined });
    expect(isUnknown(planned.user_data)).toBe(true);
    expect((planned.user_data as ExtData).type).toBe(0);
    expect(applyStoredForms('hcloud_server', { user_data: unknownValue() }, { user_data: TEXT })).toEqual({ user_data: userDataHashSum(TEXT) });
    expect(applyStoredForms('hcloud_server', { user_data: userDataHashSum(TEXT) }, { user_data: TEXT })).toEqual({ user_data: userDataHashSum(TEXT) });
  });

  test('a prior hash is compared with the hash of the configured text', () => {
    const prior = { user_data: userDataHashSum(TEXT) };
    expect(planStoredForms('hcloud_server', prior, { user_data: TEXT }).compared.user_data).toBe(userDataHashSum(TEXT));
    expect(planStoredForms('hcloud_server', prior, { user_data: `${TEXT}# more\n` }).compared.user_data).toBe(userDataHashSum(`${TEXT}# more\n`));
  });

  test('plain text in a prior state (written before hashing) counts as unchanged when its hash matches, and is kept', () => {
    const { planned, compared } = planStoredForms('hcloud_server', { user_data: TEXT }, { user_data: TEXT });
    expect(compared.user_data).toBe(TEXT); // suppressed: no change, as the SDK keeps the prior value
    expect(planned.user_data).toBe(userDataHashSum(TEXT)); // what a replacement would store
    expect(planStoredForms('hcloud_server', { user_data: TEXT }, { user_data: 'other' }).compared.user_data).toBe(userDataHashSum('other'));
  });

  test('with ignore_changes, Terraform proposes the stored hash itself: no change and no second hashing', () => {
    const stored = userDataHashSum(TEXT);
    const { planned, compared } = planStoredForms('hcloud_server', { user_data: stored }, { user_data: stored });
    expect([planned.user_data, compared.user_data]).toEqual([stored, stored]);
  });
});
