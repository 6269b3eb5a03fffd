import { ArgumentError } from '../../errors.js';
import { logSoftmax, noGrad, Tensor } from '../../tensor/index.js';
import { adapterFlags, dtypeFlag, parse, required } from '../args.js';
import type { Output } from '../output.js';
import { loadCausalLM, loadTokenizer } from './model-io.js';

const USAGE = 'peft-ts score --model DIR [--adapter DIR]... [--dtype auto|float32|bf16] --text TEXT [--json]';

/** Per-token log-probabilities of a text under the model, its mean NLL and perplexity. */
export function score(argv: string[], out: Output): void {
  const { values } = parse(argv, { model: { type: 'string' }, adapter: { type: 'string', multiple: true }, dtype: { type: 'string' }, text: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const dir = required(values.model, '--model', USAGE);
  const model = loadCausalLM(dir, adapterFlags(values.adapter), { out, dtype: dtypeFlag(values.dtype) });
  const tokenizer = loadTokenizer(dir);
  const ids = tokenizer.encode(required(values.text, '--text', USAGE));
  if (ids.length < 2) throw new ArgumentError('[score] the text must have at least two tokens.', 'Score a longer text.');
  const logp = noGrad(() => logSoftmax(model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') }))).contiguousData();
  const V = model.config.vocabSize;
  const tokens = ids.slice(1).map((id, i) => ({ token: tokenizer.decode([id], { skipSpecialTokens: false }), id, logprob: logp[i * V + id] }));
  const nll = -tokens.reduce((s, t) => s + t.logprob, 0) / tokens.length;
  const result = { tokens, mean_nll: nll, perplexity: Math.exp(nll) };
  if (values.json) { out.json(result); return; }
  for (const t of tokens) out.line(`${t.logprob.toFixed(4).padStart(9)}  ${JSON.stringify(t.token)}`);
  out.line(`mean NLL ${nll.toFixed(4)} nats/token, perplexity ${Math.exp(nll).toFixed(3)} over ${tokens.length} predicted tokens`);
}
