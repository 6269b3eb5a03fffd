import { ConfigError } from '../errors.js';
import { gguf, type GGUFFloatType, type GGUFTensorToWrite, type GGUFValue } from '../io/gguf.js';
import { generalMetadata, ggufArch, storageType, tensorPlace, toFileLayout } from '../models/gguf/index.js';
import { LoraLayer, type LoraConfig } from './methods/lora/index.js';
import type { PeftModel } from './peft-model.js';
import { Tensor } from '../tensor/index.js';

/**
 * A LoRA adapter as llama.cpp's convert_lora_to_gguf.py writes it: general.type 'adapter',
 * adapter.type 'lora', adapter.lora.alpha, and `<base tensor>.lora_a` [r, in] / `.lora_b` [out, r]
 * for each adapted matrix, B's rows reordered as the base tensor's are.
 *
 * llama.cpp scales every pair by alpha / r with r read from lora_a. Where peft-ts's scale differs
 * (rsLoRA's alpha / sqrt(r), rank_pattern, alpha_pattern), the difference is folded into lora_b,
 * so the product llama.cpp adds equals the one peft-ts adds.
 */
export function adapterToGGUF(peft: PeftModel, adapterName: string, options: { type: GGUFFloatType; name: string }): { metadata: Map<string, GGUFValue>; tensors: GGUFTensorToWrite[] } {
  const config = peft.config(adapterName) as LoraConfig;
  const unsupported = (what: string, hint: string) => new ConfigError(`[gguf] adapter '${adapterName}' ${what}, which llama.cpp's LoRA adapters cannot hold.`, { hint });
  if (config.peft_type !== 'LORA') throw unsupported(`is ${config.peft_type}`, 'Export it merged instead: --merge.');
  if (config.use_dora) throw unsupported('uses DoRA', 'Export it merged instead: --merge.');
  if (config.bias !== 'none') throw unsupported(`trains biases (bias '${config.bias}')`, 'Export it merged instead: --merge.');
  if (config.modules_to_save?.length) throw unsupported(`saves whole modules (${config.modules_to_save.join(', ')})`, 'Export it merged instead: --merge.');
  const modelConfig = peft.model.config;
  const alpha = config.lora_alpha;
  const metadata = generalMetadata(ggufArch(modelConfig), 'adapter', options.name, options.type);
  metadata.set('adapter.type', gguf.str('lora'));
  metadata.set('adapter.lora.alpha', gguf.f32(alpha));
  const tensors: GGUFTensorToWrite[] = [];
  for (const [path, layer] of peft.tunerLayers()) {
    if (!(layer instanceof LoraLayer) || !layer.adapterNames().includes(adapterName)) continue;
    const place = tensorPlace(modelConfig, `${path}.weight`);
    if (!place) throw unsupported(`adapts '${path}', which shares its weight with the embedding in GGUF`, 'Export it merged instead: --merge, or train without this target.');
    const A = layer.lora_A.items.get(adapterName)!.weight,
      B = layer.lora_B.items.get(adapterName)!.weight;
    const r = A.shape[0];
    const scale = layer.scaling.get(adapterName)!;
    const fold = alpha === 0 ? scale : (scale * r) / alpha; // llama.cpp scales by 1 when alpha is 0
    const scaledB = new Tensor(
      B.contiguousData().map((v) => v * fold),
      B.shape,
    );
    // A and B are already in [out, in] orientation: only the row order of the base applies, to B.
    const a = { shape: [...A.shape], data: A.contiguousData() };
    const b = toFileLayout({ ...place, transpose: false }, scaledB);
    tensors.push({ name: `${place.name}.lora_a`, ...a, type: storageType(place.name, a.shape, options.type) });
    tensors.push({ name: `${place.name}.lora_b`, ...b, type: storageType(place.name, b.shape, options.type) });
  }
  if (tensors.length === 0) throw unsupported('adapts no layer', 'Check that the adapter was trained on this model.');
  return { metadata, tensors };
}
