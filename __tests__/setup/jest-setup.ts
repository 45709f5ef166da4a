import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { plainCreationStacks } from './plain-creation-stacks';

// cdktf's Testing helpers leave a temp dir behind per synth; keep them inside the project and remove them
// after the run. One directory per jest run (the workers' parent is the run's main process), so that two
// runs side by side do not remove each other's files.
const tmp = path.resolve(__dirname, '..', '..', '.tmp', `run-${process.ppid}`);
fs.mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
process.env.CHECKPOINT_DISABLE = '1';

Testing.setupJest();
plainCreationStacks();
