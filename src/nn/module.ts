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
  protected *entries(): Generator<[string, Tensor | Module]> {
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
    return this.namedParametersWithDuplicates().filter(([, t]) => {
      if (seen.has(t)) return false;
      seen.add(t);
      return true;
    });
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  trainableParameters(): [string, Tensor][] {
    return this.namedParameters().filter(([, t]) => t.requiresGrad);
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, value] of this.entries()) if (value instanceof Module) out.push(...value.namedModules(`${prefix}${name}.`));
    return out;
  }

  /** The module at `path`, or undefined. */
  findSubmodule(path: string): Module | undefined {
    try {
      return this.getSubmodule(path);
    } catch {
      return undefined;
    }
  }

  getSubmodule(path: string): Module {
    let m: Module = this;
    const parts = path ? path.split('.') : [];
    for (let i = 0; i < parts.length; i++) {
      // List items are named "field.index": try the two-part name first.
      const listItem = i + 1 < parts.length ? m.directChild(`${parts[i]}.${parts[i + 1]}`) : undefined;
      const next = listItem ?? m.directChild(parts[i]);
      if (!next) throw new CheckpointError(`[module] no submodule '${path}' (stopped at '${parts[i]}').`, { hint: 'List names with namedModules().' });
      if (listItem) i++;
      m = next;
    }
    return m;
  }

  private directChild(name: string): Module | undefined {
    for (const [n, v] of this.entries()) if (n === name && v instanceof Module) return v;
    return undefined;
  }

  /** Replaces a direct child (a field, list item or ModuleDict entry) by name. */
  protected replaceChild(name: string, module: Module): void {
    const [field, index] = name.split('.');
    const target = (this as unknown as Record<string, unknown>)[field];
    if (index !== undefined && Array.isArray(target)) target[Number(index)] = module;
    else if (target instanceof Module) (this as unknown as Record<string, unknown>)[field] = module;
    else throw new CheckpointError(`[module] no child '${name}' to replace.`, { hint: 'List names with namedModules().' });
  }

  /** Replaces the submodule at a dotted path (how PEFT methods wrap layers). */
  setSubmodule(path: string, module: Module): void {
    const parts = path.split('.');
    // The last component may be a list item ("h.3") or a field.
    for (const take of [2, 1]) {
      if (parts.length < take) continue;
      const parentPath = parts.slice(0, parts.length - take).join('.');
      const name = parts.slice(parts.length - take).join('.');
      const parent = this.findSubmodule(parentPath);
      if (parent?.directChild(name)) {
        parent.replaceChild(name, module);
        return;
      }
    }
    throw new CheckpointError(`[module] no submodule '${path}' to replace.`, { hint: 'List names with namedModules().' });
  }

  requiresGrad(flag: boolean): this {
    for (const t of this.parameters()) t.requiresGrad = flag;
    return this;
  }
  freeze(): this {
    return this.requiresGrad(false);
  }
  unfreeze(): this {
    return this.requiresGrad(true);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParametersWithDuplicates());
  }

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
      if (!source) {
        missing.push(...names);
        continue;
      }
      const value = tensors.get(source)!;
      if (value.shape.length !== param.shape.length || value.shape.some((d, i) => d !== param.shape[i])) {
        throw new CheckpointError(`[load] '${source}' has shape ${formatShape(value.shape)} but the model expects ${formatShape(param.shape)}.`, {
          hint: 'The checkpoint does not match config.json: check the model folder.',
        });
      }
      (param.data as Float32Array).set(value.float().contiguousData(), param.offset);
    }
    const unexpected = [...tensors.keys()].filter((k) => !known.has(k));
    if (options.strict && (missing.length || unexpected.length)) {
      throw new CheckpointError(
        `[load] state dict does not match the model: missing ${missing.length ? missing.join(', ') : 'none'}; unexpected ${unexpected.length ? unexpected.join(', ') : 'none'}.`,
        { hint: 'Check that the checkpoint and config.json belong together.' },
      );
    }
    return { missing, unexpected };
  }
}

/** Named children held in a map (HF's nn.ModuleDict): a PEFT layer's per-adapter weights live in these. */
export class ModuleDict<M extends Module = Module> extends Module {
  readonly items = new Map<string, M>();
  protected override *entries(): Generator<[string, Tensor | Module]> {
    yield* this.items.entries();
  }
  protected override replaceChild(name: string, module: Module): void {
    if (!this.items.has(name)) throw new CheckpointError(`[module] no entry '${name}' to replace.`, { hint: 'List names with namedModules().' });
    this.items.set(name, module as M);
  }
}

/** Named tensors held in a map (HF's nn.ParameterDict): a PEFT layer's bare per-adapter parameters (IA3's ia3_l, HRA's hra_u, AdaLoRA's lora_E). */
export class ParameterDict extends Module {
  readonly items = new Map<string, Tensor>();
  protected override *entries(): Generator<[string, Tensor | Module]> {
    yield* this.items.entries();
  }
}
