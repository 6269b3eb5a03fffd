import { ConfigError } from '../../errors.js';
import { gguf, type GGUFHeader, type GGUFValue } from '../../io/gguf.js';
import { tokenContent } from '../../io/tokenizer.js';
import type { TokenizerFiles } from './export.js';

/**
 * The tokenizer as llama.cpp reads it (`tokenizer.ggml.*`), from a Hugging Face tokenizer.json
 * and tokenizer_config.json, as convert_hf_to_gguf.py's byte-level BPE path writes it.
 */

/** llama.cpp's token types. */
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 } as const;

/** Pre-tokenizer regexes and llama.cpp's name for each (convert_hf_to_gguf.py identifies them by hashing; the regex says the same). */
const PRE_TOKENIZERS: Record<string, string> = {
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": 'gpt-2',
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'llama-bpe',
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'qwen2',
};
const GPT2_REGEX = Object.keys(PRE_TOKENIZERS)[0];

/** The regex a byte-level pre-tokenizer splits with, or null for one that is not byte-level BPE. */
function splitRegex(pre: any): string | null {
  if (!pre) return null;
  if (pre.type === 'ByteLevel') return pre.use_regex === false ? null : GPT2_REGEX;
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    const split = pre.pretokenizers.find((p: any) => p.type === 'Split');
    const byteLevel = pre.pretokenizers.find((p: any) => p.type === 'ByteLevel');
    if (split && byteLevel && byteLevel.use_regex === false) return split.pattern?.Regex ?? null;
    if (!split && byteLevel) return splitRegex(byteLevel);
  }
  return null;
}

/**
 * tokenizer.ggml.* for a byte-level BPE tokenizer.json (GPT-2, Llama 3, Qwen2 families), padded
 * to the model's vocab_size with unused [PAD<i>] tokens as the converter does.
 */
export function vocabMetadata(tokenizer: Record<string, any>, tokenizerConfig: Record<string, any>, modelConfig: Record<string, unknown>, vocabSize: number): Map<string, GGUFValue> {
  const model = tokenizer.model ?? {};
  const regex = splitRegex(tokenizer.pre_tokenizer);
  const pre = regex === null ? undefined : PRE_TOKENIZERS[regex];
  if (model.type !== 'BPE' || model.byte_fallback || !pre) {
    const what =
      model.type !== 'BPE'
        ? `a ${model.type} model`
        : model.byte_fallback
          ? 'a SentencePiece-style BPE (byte_fallback)'
          : `a pre-tokenizer llama.cpp does not know by that regex (${JSON.stringify(regex)})`;
    throw new ConfigError(`[gguf] tokenizer.json holds ${what}; peft-ts writes byte-level BPE tokenizers (GPT-2, Llama 3, Qwen2) to GGUF.`, {
      hint: "Export the adapter alone (--adapter without a tokenizer is fine), or convert the base with llama.cpp's converter.",
    });
  }
  const tokens: string[] = Array.from({ length: vocabSize }, (_, i) => `[PAD${i}]`);
  const types: number[] = new Array(vocabSize).fill(TOKEN_TYPE.unused);
  const place = (content: string, id: number, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new ConfigError(`[gguf] token ${JSON.stringify(content)} has id ${id}, outside the model's vocab_size ${vocabSize}.`, { hint: 'The tokenizer does not belong to this model.' });
    tokens[id] = content;
    types[id] = type;
  };
  for (const [content, id] of Object.entries(model.vocab as Record<string, number>)) place(content, id, TOKEN_TYPE.normal);
  for (const added of tokenizer.added_tokens ?? []) place(added.content, added.id, added.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined);
  const merges = (model.merges as (string | [string, string])[]).map((m) => (Array.isArray(m) ? m.join(' ') : m));

  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const m = new Map<string, GGUFValue>([
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    ['tokenizer.ggml.pre', gguf.str(pre)],
    ['tokenizer.ggml.tokens', gguf.array('string', tokens)],
    ['tokenizer.ggml.token_type', gguf.array('i32', types)],
    ['tokenizer.ggml.merges', gguf.array('string', merges)],
  ]);
  for (const [role, key] of [
    ['bos', 'bos_token_id'],
    ['eos', 'eos_token_id'],
    ['unk', 'unknown_token_id'],
    ['pad', 'padding_token_id'],
  ] as const) {
    const content = tokenContent(tokenizerConfig[`${role}_token`]);
    const fromConfig = modelConfig[`${role}_token_id`];
    const id = content !== undefined ? idOf.get(content) : Array.isArray(fromConfig) ? fromConfig[0] : fromConfig;
    if (typeof id === 'number') m.set(`tokenizer.ggml.${key}`, gguf.u32(id));
  }
  for (const flag of ['add_bos_token', 'add_eos_token'] as const) if (typeof tokenizerConfig[flag] === 'boolean') m.set(`tokenizer.ggml.${flag}`, gguf.bool(tokenizerConfig[flag]));
  if (typeof tokenizerConfig.chat_template === 'string') m.set('tokenizer.chat_template', gguf.str(tokenizerConfig.chat_template));
  return m;
}

/**
 * tokenizer.json and tokenizer_config.json rebuilt from a GGUF byte-level BPE vocabulary (the
 * inverse of vocabMetadata; unused padding tokens are left out), or null for other vocabularies.
 */
export function tokenizerFromGGUF(header: GGUFHeader): TokenizerFiles | null {
  const get = (key: string) => header.metadata.get(key)?.value;
  const pre = get('tokenizer.ggml.pre');
  const regex = Object.entries(PRE_TOKENIZERS).find(([, name]) => name === pre)?.[0];
  const tokens = get('tokenizer.ggml.tokens'),
    types = get('tokenizer.ggml.token_type'),
    merges = get('tokenizer.ggml.merges');
  if (get('tokenizer.ggml.model') !== 'gpt2' || !regex || !Array.isArray(tokens) || !Array.isArray(types) || !Array.isArray(merges)) return null;
  const vocab: Record<string, number> = {};
  const added: Record<string, unknown>[] = [];
  tokens.forEach((content, id) => {
    const type = types[id];
    if (type === TOKEN_TYPE.unused) return;
    vocab[content as string] = id;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined)
      added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: type !== TOKEN_TYPE.control, special: type === TOKEN_TYPE.control });
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: regex === GPT2_REGEX };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: regex === GPT2_REGEX ? byteLevel : { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel] },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const config: Record<string, unknown> = {};
  for (const [role, key] of [
    ['bos', 'bos_token_id'],
    ['eos', 'eos_token_id'],
    ['unk', 'unknown_token_id'],
    ['pad', 'padding_token_id'],
  ] as const) {
    const id = get(`tokenizer.ggml.${key}`);
    if (typeof id === 'number' && typeof tokens[id] === 'string') config[`${role}_token`] = tokens[id];
  }
  for (const flag of ['add_bos_token', 'add_eos_token']) if (typeof get(`tokenizer.ggml.${flag}`) === 'boolean') config[flag] = get(`tokenizer.ggml.${flag}`);
  if (typeof get('tokenizer.chat_template') === 'string') config.chat_template = get('tokenizer.chat_template');
  return { json, config };
}
