import { Linear } from '../nn/index.js';
import { crossEntropy, linearCrossEntropy, type Tensor } from '../tensor/index.js';
import type { CausalLM, CausalLMInput } from './model.js';

/**
 * Next-token cross-entropy of a causal LM against int32 targets [B, T] (-100 ignored). With a
 * plain LM head the [B*T, vocab] logits are never held whole (linearCrossEntropy, in chunks);
 * a head that a PEFT method wraps goes through its own forward.
 */
export function causalLMLoss(model: CausalLM, input: CausalLMInput, targets: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  const head = model.lm_head;
  if (head instanceof Linear && !head.bias) return linearCrossEntropy(model.hiddenStates(input), head.weight, targets, { reduction });
  return crossEntropy(model.forward(input), targets, { reduction });
}
