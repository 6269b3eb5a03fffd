import { saveSafetensors } from '../../io/index.js';
import { noGrad } from '../../tensor/index.js';
import { adapterFlags, dtypeFlag, parse, required } from '../args.js';
import type { Output } from '../output.js';
import { loadModel, readInputs } from './model-io.js';

const USAGE = 'peft-ts forward --model DIR [--adapter DIR]... [--dtype auto|float32|bf16] --inputs FILE.json --out FILE.safetensors';

export function forward(argv: string[], out: Output): void {
  const { values } = parse(argv, { model: { type: 'string' }, adapter: { type: 'string', multiple: true }, dtype: { type: 'string' }, inputs: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const { forward: run } = loadModel(required(values.model, '--model', USAGE), adapterFlags(values.adapter), { out, dtype: dtypeFlag(values.dtype) });
  const inputs = readInputs(required(values.inputs, '--inputs', USAGE));
  const target = required(values.out, '--out', USAGE);
  const logits = noGrad(() => run(inputs));
  saveSafetensors(target, { logits });
  out.note(`wrote logits ${JSON.stringify(logits.shape)} to ${target}`);
}
