import { fill_, normal_ } from '../../nn/index.js';
import { Generator } from '../../tensor/index.js';
import type { GPT2LMHeadModel } from './model.js';

/**
 * GPT-2's initialisation: weights N(0, 0.02), the residual projections scaled by
 * 1/sqrt(2 * n_layer), biases zero, LayerNorms identity.
 */
export function initGPT2(model: GPT2LMHeadModel, generator = new Generator(0)): GPT2LMHeadModel {
  const residualStd = 0.02 / Math.sqrt(2 * model.config.numLayers);
  for (const [name, t] of model.namedParameters()) {
    if (/ln_\w+\.weight$/.test(name)) fill_(t, 1);
    else if (name.endsWith('.bias')) fill_(t, 0);
    else normal_(t, /c_proj\.weight$/.test(name) ? residualStd : 0.02, generator);
  }
  return model;
}
