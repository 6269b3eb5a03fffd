import { ConfigError } from '../../errors.js';
import { gguf, type GGUFValue } from '../../io/gguf.js';
import type { GPT2Config } from '../gpt2/index.js';
import type { LlamaConfig } from '../llama/index.js';
import type { ModelConfig } from '../model.js';

/**
 * How llama.cpp's convert_hf_to_gguf.py lays out each architecture: the GGUF tensor name of every
 * Hugging Face parameter, how the matrix is turned into ggml's [out, in] rows, and the
 * `<arch>.*` hyperparameters. Mistral is written as 'llama', as the converter does.
 */

export type GGUFArch = 'gpt2' | 'llama' | 'qwen2';

/** One parameter's place in the GGUF file. */
export interface TensorPlace {
  name: string;
  /** GPT-2's Conv1D stores [in, out]: the file wants [out, in]. */
  transpose: boolean;
  /** Llama's Q and K rows are reordered for ggml's rope (pairs adjacent instead of halves): the head count to reorder by. */
  permuteHeads: number | null;
}

export function ggufArch(config: ModelConfig): GGUFArch {
  switch (config.modelType) {
    case 'gpt2':
      return 'gpt2';
    case 'llama':
    case 'mistral':
      return 'llama';
    case 'qwen2':
      return 'qwen2';
    default:
      throw new ConfigError(`[gguf] model_type '${config.modelType}' has no GGUF layout in peft-ts.`, { hint: 'GGUF export and import support gpt2, llama, mistral and qwen2.' });
  }
}

const GPT2_BLOCK: Record<string, [string, boolean]> = {
  ln_1: ['attn_norm', false],
  'attn.c_attn': ['attn_qkv', true],
  'attn.c_proj': ['attn_output', true],
  ln_2: ['ffn_norm', false],
  'mlp.c_fc': ['ffn_up', true],
  'mlp.c_proj': ['ffn_down', true],
};
const LLAMA_BLOCK: Record<string, string> = {
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
  input_layernorm: 'attn_norm',
  post_attention_layernorm: 'ffn_norm',
};

/** The GGUF place of a peft-ts parameter name, or null for one the file leaves out (a tied output head). */
export function tensorPlace(config: ModelConfig, key: string): TensorPlace | null {
  const arch = ggufArch(config);
  const plain = (name: string): TensorPlace => ({ name, transpose: false, permuteHeads: null });
  if (arch === 'gpt2') {
    const top: Record<string, string> = {
      'transformer.wte.weight': 'token_embd.weight',
      'transformer.wpe.weight': 'position_embd.weight',
      'transformer.ln_f.weight': 'output_norm.weight',
      'transformer.ln_f.bias': 'output_norm.bias',
      'lm_head.weight': 'output.weight',
    };
    if (top[key]) return plain(top[key]);
    const m = /^transformer\.h\.(\d+)\.(.+)\.(weight|bias)$/.exec(key);
    const entry = m && GPT2_BLOCK[m[2]];
    if (m && entry) return { name: `blk.${m[1]}.${entry[0]}.${m[3]}`, transpose: entry[1] && m[3] === 'weight', permuteHeads: null };
  } else {
    const c = config as LlamaConfig;
    if (key === 'lm_head.weight') return c.tieWordEmbeddings ? null : plain('output.weight');
    const top: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight' };
    if (top[key]) return plain(top[key]);
    const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(key);
    const name = m && LLAMA_BLOCK[m[2]];
    if (m && name) {
      const permuteHeads = arch !== 'llama' ? null : name === 'attn_q' ? c.numHeads : name === 'attn_k' ? c.numKVHeads : null;
      return { name: `blk.${m[1]}.${name}.${m[3]}`, transpose: false, permuteHeads };
    }
  }
  throw new ConfigError(`[gguf] parameter '${key}' of this ${config.modelType} model has no GGUF name.`, {
    hint: 'The checkpoint holds a tensor llama.cpp does not know; GGUF export supports the standard HF layouts only.',
  });
}

/**
 * Reorders the rows of a [rows, cols] matrix (or a [rows] bias) per head from HF's rotate-half
 * order to ggml's interleaved pairs: row h*d + i*d/2 + j moves to h*d + 2j + i. `inverse` undoes it.
 */
export function permuteRows(data: Float32Array, rows: number, heads: number, inverse = false): Float32Array {
  const cols = data.length / rows,
    d = rows / heads,
    half = d / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < half; j++) {
        const hf = h * d + i * half + j,
          gg = h * d + 2 * j + i;
        const [from, to] = inverse ? [gg, hf] : [hf, gg];
        out.set(data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** The `<arch>.*` hyperparameters llama.cpp reads, as convert_hf_to_gguf.py writes them. */
export function archMetadata(config: ModelConfig): Map<string, GGUFValue> {
  const arch = ggufArch(config);
  const m = new Map<string, GGUFValue>();
  const set = (key: string, value: GGUFValue) => m.set(`${arch}.${key}`, value);
  if (arch === 'gpt2') {
    const c = config as GPT2Config;
    if (c.activation !== 'tanh')
      throw new ConfigError("[gguf] this GPT-2 uses activation_function 'gelu' (erf); llama.cpp's gpt2 runs the tanh approximation.", {
        hint: "Only GPT-2 models with activation_function 'gelu_new' export to GGUF.",
      });
    set('context_length', gguf.u32(Number(c.raw.n_ctx ?? c.maxPositions)));
    set('embedding_length', gguf.u32(c.hiddenSize));
    set('feed_forward_length', gguf.u32(Number(c.raw.n_inner ?? 4 * c.hiddenSize)));
    set('block_count', gguf.u32(c.numLayers));
    set('attention.head_count', gguf.u32(c.nHead));
    set('attention.layer_norm_epsilon', gguf.f32(c.layerNormEpsilon));
    return m;
  }
  const c = config as LlamaConfig;
  if (c.ropeScaling?.type === 'llama3')
    throw new ConfigError("[gguf] rope_scaling 'llama3' is not exported yet (llama.cpp needs a rope_freqs tensor for it).", {
      hint: "Export a model without llama3 rope scaling, or use llama.cpp's converter for this one.",
    });
  if (c.mlpBias || c.oBias || (arch === 'llama' && c.qkvBias))
    throw new ConfigError('[gguf] attention_bias / mlp_bias on a llama model have no GGUF layout in peft-ts.', { hint: 'Export a model without these biases.' });
  set('context_length', gguf.u32(c.maxPositions));
  set('embedding_length', gguf.u32(c.hiddenSize));
  set('block_count', gguf.u32(c.numLayers));
  set('feed_forward_length', gguf.u32(c.intermediateSize));
  set('rope.dimension_count', gguf.u32(c.headDim));
  set('attention.head_count', gguf.u32(c.numHeads));
  set('attention.head_count_kv', gguf.u32(c.numKVHeads));
  if (c.headDim !== c.hiddenSize / c.numHeads) {
    set('attention.key_length', gguf.u32(c.headDim));
    set('attention.value_length', gguf.u32(c.headDim));
  }
  set('attention.layer_norm_rms_epsilon', gguf.f32(c.rmsNormEps));
  set('rope.freq_base', gguf.f32(c.ropeTheta));
  if (c.ropeScaling?.type === 'linear') {
    set('rope.scaling.type', gguf.str('linear'));
    set('rope.scaling.factor', gguf.f32(c.ropeScaling.factor));
  }
  if (arch === 'llama') set('vocab_size', gguf.u32(c.vocabSize));
  return m;
}

/** The peft-ts parameter name of a GGUF tensor name (the inverse of tensorPlace), or null for one peft-ts does not use. */
export function hfKey(config: ModelConfig, name: string): string | null {
  const arch = ggufArch(config);
  const top: Record<string, string> =
    arch === 'gpt2'
      ? {
          'token_embd.weight': 'transformer.wte.weight',
          'position_embd.weight': 'transformer.wpe.weight',
          'output_norm.weight': 'transformer.ln_f.weight',
          'output_norm.bias': 'transformer.ln_f.bias',
          'output.weight': 'lm_head.weight',
        }
      : { 'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };
  if (top[name]) return top[name];
  const m = /^blk\.(\d+)\.(\w+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const local = arch === 'gpt2' ? Object.entries(GPT2_BLOCK).find(([, [g]]) => g === m[2])?.[0] : Object.entries(LLAMA_BLOCK).find(([, g]) => g === m[2])?.[0];
  if (!local) return null;
  return arch === 'gpt2' ? `transformer.h.${m[1]}.${local}.${m[3]}` : `model.layers.${m[1]}.${local}.${m[3]}`;
}
