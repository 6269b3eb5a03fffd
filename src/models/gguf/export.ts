import { gguf, type GGUFFloatType, type GGUFTensorToWrite, type GGUFValue } from '../../io/gguf.js';
import type { Tensor } from '../../tensor/index.js';
import type { PretrainedModel } from '../model.js';
import { archMetadata, ggufArch, permuteRows, tensorPlace, type TensorPlace } from './layout.js';
import { vocabMetadata } from './vocab.js';

/** llama.cpp's general.file_type (llama_ftype) for each output type. */
const FILE_TYPE: Record<GGUFFloatType, number> = { F32: 0, F16: 1, Q8_0: 7, BF16: 32 };

export interface TokenizerFiles {
  json: Record<string, any>;
  config: Record<string, any>;
}

/**
 * The type a tensor is stored as, by convert_hf_to_gguf.py's rules: vectors (norms, biases) and
 * position embeddings stay F32; matrices take the requested type, and Q8_0 falls back to F16 for
 * rows that are not whole 32-value blocks.
 */
export function storageType(name: string, shape: readonly number[], requested: GGUFFloatType): GGUFFloatType {
  if (shape.length < 2 || name === 'position_embd.weight') return 'F32';
  if (requested === 'Q8_0' && shape[shape.length - 1] % 32 !== 0) return 'F16';
  return requested;
}

/** A parameter's values laid out as the GGUF file holds them: [out, in] rows, Llama's Q/K rows reordered. */
export function toFileLayout(place: TensorPlace, t: Tensor): { shape: number[]; data: Float32Array } {
  const oriented = place.transpose ? t.T.contiguous() : t;
  const shape = [...oriented.shape];
  let data = oriented.contiguousData();
  if (place.permuteHeads) data = permuteRows(data, shape[0], place.permuteHeads);
  return { shape, data };
}

export function generalMetadata(arch: string, type: 'model' | 'adapter', name: string, fileType: GGUFFloatType): Map<string, GGUFValue> {
  return new Map<string, GGUFValue>([
    ['general.architecture', gguf.str(arch)],
    ['general.type', gguf.str(type)],
    ['general.name', gguf.str(name)],
    ['general.file_type', gguf.u32(FILE_TYPE[fileType])],
    ['general.quantization_version', gguf.u32(2)],
  ]);
}

/** Metadata and tensors of a base (or merged) causal LM, named and laid out as llama.cpp's converter does. */
export function modelToGGUF(model: PretrainedModel, options: { type: GGUFFloatType; name: string; tokenizer?: TokenizerFiles }): { metadata: Map<string, GGUFValue>; tensors: GGUFTensorToWrite[] } {
  const config = model.config;
  const metadata = generalMetadata(ggufArch(config), 'model', options.name, options.type);
  for (const [k, v] of archMetadata(config)) metadata.set(k, v);
  if (options.tokenizer) for (const [k, v] of vocabMetadata(options.tokenizer.json, options.tokenizer.config, config.raw, config.vocabSize)) metadata.set(k, v);
  const tensors: GGUFTensorToWrite[] = [];
  for (const [key, t] of model.stateDict()) {
    const place = tensorPlace(config, key);
    if (!place) continue;
    const { shape, data } = toFileLayout(place, t);
    tensors.push({ name: place.name, shape, data, type: storageType(place.name, shape, options.type) });
  }
  return { metadata, tensors };
}
