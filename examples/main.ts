// The example apps, synthesized together: `npm run synth` writes cdktf.out/stacks/<stack>/cdk.tf.json.
import { App } from 'cdktf';
import { phase1Pilot } from './phase1-pilot';

const app = new App();
phase1Pilot(app);
app.synth();
