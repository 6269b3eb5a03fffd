import { ArgumentError } from '../../errors.js';
import { resolveModelDir } from '../../io/index.js';
import { logSoftmax, noGrad, Tensor } from '../../tensor/index.js';
import { defineCommand } from '../command.js';
import { ADAPTER_FLAG, DTYPE_FLAG, JSON_FLAG, loadDType, MODEL_FLAGS } from '../flags.js';
import { causalLMWithAdapters, loadTokenizer } from './model-io.js';

/** Per-token log-probabilities of a text under the model, its mean NLL and perplexity. */
export const scoreCommand = defineCommand({
  name: 'score',
  summary: 'per-token log-probabilities, mean NLL and perplexity of a text',
  flags: {
    ...MODEL_FLAGS,
    ...ADAPTER_FLAG,
    ...DTYPE_FLAG,
    text: { type: 'string', required: true, help: 'the text to score' },
    ...JSON_FLAG,
  },
  async run(v, { out }) {
    const dir = await resolveModelDir(v.model, { revision: v.revision });
    const model = causalLMWithAdapters(dir, v.adapter, { out, dtype: loadDType(v.dtype) });
    const tokenizer = loadTokenizer(dir);
    const ids = tokenizer.encode(v.text);
    if (ids.length < 2) throw new ArgumentError('[score] the text must have at least two tokens.', 'Score a longer text.');
    const logp = noGrad(() => logSoftmax(model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') }))).contiguousData();
    const V = model.config.vocabSize;
    const tokens = ids.slice(1).map((id, i) => ({ token: tokenizer.decode([id], { skipSpecialTokens: false }), id, logprob: logp[i * V + id] }));
    const nll = -tokens.reduce((s, t) => s + t.logprob, 0) / tokens.length;
    const result = { tokens, mean_nll: nll, perplexity: Math.exp(nll) };
    if (v.json) {
      out.json(result);
      return;
    }
    for (const t of tokens) out.line(`${t.logprob.toFixed(4).padStart(9)}  ${JSON.stringify(t.token)}`);
    out.line(`mean NLL ${nll.toFixed(4)} nats/token, perplexity ${Math.exp(nll).toFixed(3)} over ${tokens.length} predicted tokens`);
  },
});
