import { generate } from '../../models/index.js';
import { adapterFlags, dtypeFlag, numberFlag, parse, required } from '../args.js';
import type { Output } from '../output.js';
import { loadCausalLM, loadTokenizer } from './model-io.js';

const USAGE = 'peft-ts generate --model DIR [--adapter DIR]... [--dtype auto|float32|bf16] --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json]';

export function generateCommand(argv: string[], out: Output): void {
  const { values } = parse(argv, {
    model: { type: 'string' }, adapter: { type: 'string', multiple: true }, dtype: { type: 'string' }, prompt: { type: 'string' }, 'max-new-tokens': { type: 'string' }, temperature: { type: 'string' },
    'top-k': { type: 'string' }, 'top-p': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
  }, USAGE);
  const dir = required(values.model, '--model', USAGE);
  const prompt = required(values.prompt, '--prompt', USAGE);
  const model = loadCausalLM(dir, adapterFlags(values.adapter), { out, dtype: dtypeFlag(values.dtype) });
  const tokenizer = loadTokenizer(dir);
  const ids = tokenizer.encode(prompt);
  const started = performance.now();
  const tokens = generate(model, [ids], {
    maxNewTokens: numberFlag(values['max-new-tokens'], '--max-new-tokens', 32, Number.isInteger),
    temperature: numberFlag(values.temperature, '--temperature', 0),
    topK: numberFlag(values['top-k'], '--top-k', 0, Number.isInteger),
    topP: numberFlag(values['top-p'], '--top-p', 1),
    seed: numberFlag(values.seed, '--seed', 0, Number.isInteger),
    eosTokenId: tokenizer.eosTokenId ?? model.config.eosTokenId,
  })[0];
  const seconds = (performance.now() - started) / 1000;
  const completion = tokenizer.decode(tokens);
  if (values.json) out.json({ prompt, completion, prompt_tokens: ids.length, new_tokens: tokens, tokens_per_second: tokens.length / seconds });
  else {
    out.line(prompt + completion);
    out.note(`${tokens.length} tokens in ${seconds.toFixed(2)} s (${(tokens.length / seconds).toFixed(1)} tokens/s)`);
  }
}
