import { resolveModelDir } from '../../io/index.js';
import { generate } from '../../models/index.js';
import { defineCommand } from '../command.js';
import { ADAPTER_FLAG, DTYPE_FLAG, JSON_FLAG, loadDType, MODEL_FLAGS } from '../flags.js';
import { causalLMWithAdapters, loadTokenizer } from './model-io.js';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'continue a prompt (greedy, temperature, top-k, top-p); defaults come from generation_config.json',
  flags: {
    ...MODEL_FLAGS,
    ...ADAPTER_FLAG,
    ...DTYPE_FLAG,
    prompt: { type: 'string', required: true, help: 'the text to continue' },
    'max-new-tokens': { type: 'int', min: 0, help: "tokens to generate (default: generation_config.json's max_new_tokens, else 32)" },
    temperature: { type: 'number', min: 0, help: 'sampling temperature; 0 is greedy (default: generation_config.json, greedy unless do_sample)' },
    'top-k': { type: 'int', min: 0, help: 'sample among the k most likely tokens; 0 for all (default: generation_config.json)' },
    'top-p': { type: 'number', min: 0, help: 'nucleus sampling mass in (0, 1] (default: generation_config.json, else 1)' },
    seed: { type: 'int', default: 0, help: 'sampling seed' },
    ...JSON_FLAG,
  },
  async run(v, { out }) {
    const dir = await resolveModelDir(v.model, { revision: v.revision });
    const model = causalLMWithAdapters(dir, v.adapter, { out, dtype: loadDType(v.dtype) });
    const tokenizer = loadTokenizer(dir);
    const ids = tokenizer.encode(v.prompt);
    const started = performance.now();
    const tokens = generate(model, [ids], {
      maxNewTokens: v['max-new-tokens'],
      temperature: v.temperature,
      topK: v['top-k'],
      topP: v['top-p'],
      seed: v.seed,
      eosTokenId: model.config.generation?.eos_token_id === undefined ? (tokenizer.eosTokenId ?? model.config.eosTokenId) : undefined,
    })[0];
    const seconds = (performance.now() - started) / 1000;
    const completion = tokenizer.decode(tokens);
    if (v.json) out.json({ prompt: v.prompt, completion, prompt_tokens: ids.length, new_tokens: tokens, tokens_per_second: tokens.length / seconds });
    else {
      out.line(v.prompt + completion);
      out.note(`${tokens.length} tokens in ${seconds.toFixed(2)} s (${(tokens.length / seconds).toFixed(1)} tokens/s)`);
    }
  },
});
