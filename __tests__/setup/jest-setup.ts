import { Testing } from 'cdktf';
import { plainCreationStacks } from './plain-creation-stacks';

process.env.CHECKPOINT_DISABLE = '1';

Testing.setupJest();
plainCreationStacks();
