import { saveSafetensors } from '../../io/index.js';
import { noGrad } from '../../tensor/index.js';
import { parse, required } from '../args.js';
import type { Output } from '../output.js';
import { loadModel, readInputs } from './model-io.js';

const USAGE = 'peft-ts forward --model DIR --inputs FILE.json --out FILE.safetensors';

export function forward(argv: string[], out: Output): void {
  const { values } = parse(argv, { model: { type: 'string' }, inputs: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const model = loadModel(required(values.model, '--model', USAGE));
  const inputs = readInputs(required(values.inputs, '--inputs', USAGE));
  const target = required(values.out, '--out', USAGE);
  const logits = noGrad(() => (model.task === 'causal-lm'
    ? model.forward({ inputIds: inputs.inputIds, attentionMask: inputs.attentionMask })
    : model.forward(inputs)));
  saveSafetensors(target, { logits });
  out.note(`wrote logits ${JSON.stringify(logits.shape)} to ${target}`);
}
