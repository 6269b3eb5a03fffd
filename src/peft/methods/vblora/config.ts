import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** VB-LoRA's adapter_config.json, field for field as HF PEFT 0.21's VBLoRAConfig (PEFT's defaults). */
const vbloraFields = {
  ...targetFields,
  r: f.int({ default: 4, min: 1, doc: 'rank of the update B@A' }),
  num_vectors: f.int({ default: 256, min: 1, doc: 'vectors in the bank shared by every adapted layer' }),
  vector_length: f.int({ default: 256, min: 1, doc: 'length of each bank vector; must divide in_features and out_features' }),
  topk: f.int({ default: 2, min: 1, doc: 'bank vectors mixed (softmax over their logits) into each piece of A and B' }),
  vblora_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'dropout on the adapter input' }),
  save_only_topk_weights: f.bool({ default: false, doc: 'save only the top-k indices and softmax weights of each logit row (inference only; training cannot resume from them)' }),
  init_vector_bank_bound: f.number({ default: 0.02, min: 0, doc: 'the bank starts uniform in [-bound, bound]' }),
  init_logits_std: f.number({ default: 0.1, min: 0, doc: 'the logits start from N(0, std)' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  bias: f.oneOf(['none', 'all', 'vblora_only'], { default: 'none', doc: 'which biases train and are saved with the adapter: none, every bias, or those of the adapted layers' }),
};

export type VbloraConfig = TargetedConfig & Infer<typeof vbloraFields> & { peft_type: 'VBLORA' };

export const vbloraConfigSpec: ConfigSpec<VbloraConfig> = { peftType: 'VBLORA', label: 'vblora', fields: vbloraFields };
