// The example apps, synthesized together: `npm run synth` writes cdktf.out/stacks/<stack>/cdk.tf.json.
import { App } from 'cdktf';
import { EXAMPLES } from '.';

const app = new App();
for (const define of Object.values(EXAMPLES)) define(app);
app.synth();
