import { resolveModelDir, saveSafetensors } from '../../io/index.js';
import { noGrad } from '../../tensor/index.js';
import { defineCommand } from '../command.js';
import { ADAPTER_FLAG, DTYPE_FLAG, loadDType, MODEL_FLAGS } from '../flags.js';
import { loadModel, readInputs } from './model-io.js';

export const forwardCommand = defineCommand({
  name: 'forward',
  summary: 'run input ids through a model and write the logits as safetensors',
  flags: {
    ...MODEL_FLAGS,
    ...ADAPTER_FLAG,
    ...DTYPE_FLAG,
    inputs: { type: 'string', required: true, metavar: 'FILE.json', help: 'JSON with input_ids [[...]] and optionally attention_mask, token_type_ids' },
    out: { type: 'string', required: true, metavar: 'FILE.safetensors', help: 'where to write the logits' },
  },
  async run(v, { out }) {
    const { forward: run } = loadModel(await resolveModelDir(v.model, { revision: v.revision }), v.adapter, { out, dtype: loadDType(v.dtype) });
    const inputs = readInputs(v.inputs);
    const logits = noGrad(() => run(inputs));
    saveSafetensors(v.out, { logits });
    out.note(`wrote logits ${JSON.stringify(logits.shape)} to ${v.out}`);
  },
});
