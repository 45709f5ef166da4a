import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';

// cdktf's Testing helpers leave a temp dir behind per synth; keep them inside the project and remove them after the run.
const tmp = path.resolve(__dirname, '..', '..', '.tmp');
fs.mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
process.env.CHECKPOINT_DISABLE = '1';

Testing.setupJest();
