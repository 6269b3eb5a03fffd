import { CheckpointError, formatShape } from '../errors.js';
import { Tensor } from '../tensor/index.js';

/**
 * A tree of parameters, discovered from fields: a Tensor field is a parameter, a Module field
 * a child, an array of Modules a numbered list. So a parameter's dotted name is its path of
 * field names, which we choose equal to the Hugging Face state-dict key. Tensors that are not
 * parameters (caches, tables) live in #private fields, which are not discovered.
 */
export abstract class Module {
  training = false;

  /** Direct children and parameters, in field order. */
  private *entries(): Generator<[string, Tensor | Module]> {
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Tensor || value instanceof Module) yield [name, value];
      else if (Array.isArray(value) && value.length && value.every((v) => v instanceof Module)) {
        for (let i = 0; i < value.length; i++) yield [`${name}.${i}`, value[i] as Module];
      }
    }
  }

  /** Every parameter with its dotted name; a tensor shared under two names (tied weights) appears under both. */
  namedParametersWithDuplicates(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, value] of this.entries()) {
      if (value instanceof Tensor) out.push([prefix + name, value]);
      else out.push(...value.namedParametersWithDuplicates(`${prefix}${name}.`));
    }
    return out;
  }

  /** Every distinct parameter once, under the first name that reaches it. */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    return this.namedParametersWithDuplicates().filter(([, t]) => (seen.has(t) ? false : (seen.add(t), true)));
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
  trainableParameters(): [string, Tensor][] { return this.namedParameters().filter(([, t]) => t.requiresGrad); }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, value] of this.entries()) if (value instanceof Module) out.push(...value.namedModules(`${prefix}${name}.`));
    return out;
  }

  getSubmodule(path: string): Module {
    let m: Module = this;
    for (const part of path ? path.split('.') : []) {
      const next = (m as unknown as Record<string, unknown>)[part];
      if (next instanceof Module) m = next;
      else throw new CheckpointError(`[module] no submodule '${path}' (stopped at '${part}').`, { hint: 'List names with namedModules().' });
    }
    return m;
  }

  /** Replaces the submodule at a dotted path (how PEFT methods wrap layers). */
  setSubmodule(path: string, module: Module): void {
    const parts = path.split('.');
    const last = parts.pop()!;
    const parent = this.getSubmodule(parts.join('.')) as unknown as Record<string, unknown>;
    if (!(parent[last] instanceof Module)) throw new CheckpointError(`[module] no submodule '${path}' to replace.`, { hint: 'List names with namedModules().' });
    parent[last] = module;
  }

  requiresGrad(flag: boolean): this {
    for (const t of this.parameters()) t.requiresGrad = flag;
    return this;
  }
  freeze(): this { return this.requiresGrad(false); }
  unfreeze(): this { return this.requiresGrad(true); }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this { return this.train(false); }

  stateDict(): Map<string, Tensor> { return new Map(this.namedParametersWithDuplicates()); }

  /**
   * Copies tensors into the parameters of the same name, checking every shape. Returns the
   * names the model has that `tensors` lacks (a tied weight counts as present when any of its
   * names is given) and the names given that the model lacks; strict throws on either.
   */
  loadStateDict(tensors: Map<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const byTensor = new Map<Tensor, string[]>();
    for (const [name, t] of this.namedParametersWithDuplicates()) byTensor.set(t, [...(byTensor.get(t) ?? []), name]);
    const known = new Set<string>();
    const missing: string[] = [];
    for (const [param, names] of byTensor) {
      names.forEach((n) => known.add(n));
      const source = names.find((n) => tensors.has(n));
      if (!source) { missing.push(...names); continue; }
      const value = tensors.get(source)!;
      if (value.shape.length !== param.shape.length || value.shape.some((d, i) => d !== param.shape[i])) {
        throw new CheckpointError(`[load] '${source}' has shape ${formatShape(value.shape)} but the model expects ${formatShape(param.shape)}.`, { hint: 'The checkpoint does not match config.json: check the model folder.' });
      }
      (param.data as Float32Array).set(value.float().contiguousData(), param.offset);
    }
    const unexpected = [...tensors.keys()].filter((k) => !known.has(k));
    if (options.strict && (missing.length || unexpected.length)) {
      throw new CheckpointError(`[load] state dict does not match the model: missing ${missing.length ? missing.join(', ') : 'none'}; unexpected ${unexpected.length ? unexpected.join(', ') : 'none'}.`, { hint: 'Check that the checkpoint and config.json belong together.' });
    }
    return { missing, unexpected };
  }
}
