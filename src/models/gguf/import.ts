import { CheckpointError } from '../../errors.js';
import { loadGGUFTensors, type GGUFHeader, type GGUFScalar } from '../../io/gguf.js';
import { Tensor } from '../../tensor/index.js';
import { buildModel, parseConfig, type LoadReport } from '../load.js';
import type { PretrainedModel } from '../model.js';
import { hfKey, permuteRows, tensorPlace } from './layout.js';
import type { TokenizerFiles } from './export.js';
import { tokenizerFromGGUF } from './vocab.js';

function metaReader(header: GGUFHeader, path: string) {
  const get = (key: string): GGUFScalar | undefined => {
    const entry = header.metadata.get(key);
    return entry && entry.type !== 'array' ? entry.value : undefined;
  };
  const num = (key: string, fallback?: number): number => {
    const v = get(key);
    if (typeof v === 'number') return v;
    if (fallback !== undefined) return fallback;
    throw new CheckpointError(`[gguf] ${path} lacks the number '${key}'.`, { hint: 'The file is not a complete llama.cpp model; re-export it.' });
  };
  return { get, num };
}

/** config.json fields for a GGUF model, from its `<arch>.*` metadata and tensor shapes. */
function hfConfig(header: GGUFHeader, path: string): Record<string, unknown> {
  const { get, num } = metaReader(header, path);
  const arch = get('general.architecture');
  const type = get('general.type');
  if (type !== undefined && type !== 'model')
    throw new CheckpointError(`[gguf] ${path} is a GGUF ${String(type)}, not a model.`, {
      hint: type === 'adapter' ? 'Pass the base model as --model; a GGUF LoRA adapter is for llama.cpp.' : 'Pass a GGUF model file.',
    });
  if (arch !== 'gpt2' && arch !== 'llama' && arch !== 'qwen2')
    throw new CheckpointError(`[gguf] ${path} holds a '${String(arch)}' model, which peft-ts does not import.`, {
      hint: 'peft-ts imports gpt2, llama (and Mistral, written as llama) and qwen2 GGUF models.',
    });
  const rows = (name: string) => header.tensors.get(name)?.shape[0];
  const vocab = rows('token_embd.weight');
  if (vocab === undefined) throw new CheckpointError(`[gguf] ${path} has no token_embd.weight.`, { hint: 'The file is not a complete llama.cpp model.' });
  const special = { bos_token_id: get('tokenizer.ggml.bos_token_id'), eos_token_id: get('tokenizer.ggml.eos_token_id'), pad_token_id: get('tokenizer.ggml.padding_token_id') };
  if (arch === 'gpt2') {
    return {
      model_type: 'gpt2',
      vocab_size: vocab,
      n_embd: num('gpt2.embedding_length'),
      n_layer: num('gpt2.block_count'),
      n_head: num('gpt2.attention.head_count'),
      n_positions: rows('position_embd.weight'),
      n_ctx: num('gpt2.context_length'),
      n_inner: num('gpt2.feed_forward_length'),
      layer_norm_epsilon: num('gpt2.attention.layer_norm_epsilon'),
      activation_function: 'gelu_new',
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      tie_word_embeddings: !header.tensors.has('output.weight'),
      ...special,
    };
  }
  const heads = num(`${arch}.attention.head_count`),
    hidden = num(`${arch}.embedding_length`);
  const scaling = get(`${arch}.rope.scaling.type`);
  if (scaling !== undefined && scaling !== 'none' && scaling !== 'linear')
    throw new CheckpointError(`[gguf] ${path} uses rope scaling '${String(scaling)}', which peft-ts does not import.`, { hint: 'peft-ts imports linear rope scaling only.' });
  return {
    model_type: arch,
    vocab_size: vocab,
    hidden_size: hidden,
    num_hidden_layers: num(`${arch}.block_count`),
    intermediate_size: num(`${arch}.feed_forward_length`),
    num_attention_heads: heads,
    num_key_value_heads: num(`${arch}.attention.head_count_kv`, heads),
    head_dim: num(`${arch}.attention.key_length`, hidden / heads),
    rms_norm_eps: num(`${arch}.attention.layer_norm_rms_epsilon`),
    rope_theta: num(`${arch}.rope.freq_base`, arch === 'qwen2' ? 1e6 : 10000),
    max_position_embeddings: num(`${arch}.context_length`),
    hidden_act: 'silu',
    tie_word_embeddings: !header.tensors.has('output.weight'),
    rope_scaling: scaling === 'linear' ? { type: 'linear', factor: num(`${arch}.rope.scaling.factor`) } : null,
    ...special,
  };
}

/**
 * Loads a llama.cpp GGUF model (F32, F16, BF16 or Q8_0 tensors, dequantised to float32) as the
 * peft-ts model it came from: names mapped back, GPT-2's matrices transposed back to Conv1D's
 * [in, out], Llama's Q/K rows put back in rotate-half order. The tokenizer comes along when the
 * file has a byte-level BPE vocabulary.
 */
export function loadGGUFModel(path: string): { model: PretrainedModel; report: LoadReport; tokenizer: TokenizerFiles | null } {
  const { header, tensors } = loadGGUFTensors(path);
  const config = parseConfig(hfConfig(header, path));
  const mapped = new Map<string, Tensor>();
  for (const [name, { shape, data }] of tensors) {
    const key = hfKey(config, name);
    if (key === null)
      throw new CheckpointError(`[gguf] ${path} holds tensor '${name}', which this ${config.modelType} model has no place for.`, {
        hint: 'The file was made for a variant peft-ts does not implement.',
      });
    const place = tensorPlace(config, key);
    let t = new Tensor(place?.permuteHeads ? permuteRows(data, shape[0], place.permuteHeads, true) : data, shape);
    if (place?.transpose) t = t.T.contiguous();
    mapped.set(key, t);
  }
  const { model, report } = buildModel(config, mapped);
  return { model, report, tokenizer: tokenizerFromGGUF(header) };
}
