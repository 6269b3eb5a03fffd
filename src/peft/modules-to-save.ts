import { Module, ModuleDict } from '../nn/index.js';
import { Tensor } from '../tensor/index.js';

/** A deep copy of a module's parameters into a fresh module of the same structure, in float32 (the copy trains). */
export function cloneModule<M extends Module>(module: M): M {
  const copy = Object.create(Object.getPrototypeOf(module)) as M;
  for (const [key, value] of Object.entries(module)) {
    (copy as Record<string, unknown>)[key] =
      value instanceof Tensor
        ? value.float().clone()
        : value instanceof Module
          ? cloneModule(value)
          : Array.isArray(value) && value.every((v) => v instanceof Module)
            ? value.map((v) => cloneModule(v as Module))
            : value;
  }
  return copy;
}

/**
 * HF PEFT's ModulesToSaveWrapper: a trainable copy of a whole module (a classification head)
 * per adapter; forward uses the active adapter's copy, or the original when none is active.
 */
export class ModulesToSave extends Module {
  original_module: Module;
  modules_to_save = new ModuleDict();
  active: string | null = null;

  constructor(original: Module) {
    super();
    this.original_module = original;
  }

  addAdapter(name: string): void {
    const copy = cloneModule(this.original_module);
    copy.unfreeze();
    this.modules_to_save.items.set(name, copy);
    this.active = name;
  }

  deleteAdapter(name: string): void {
    this.modules_to_save.items.delete(name);
    if (this.active === name) this.active = null;
  }

  private current(): Module {
    return (this.active && this.modules_to_save.items.get(this.active)) || this.original_module;
  }

  forward(...args: unknown[]): unknown {
    return (this.current() as unknown as { forward: (...a: unknown[]) => unknown }).forward(...args);
  }

  /** The copy's parameters under the original module's names, as PEFT saves them. */
  adapterState(name: string): Map<string, Tensor> {
    const copy = this.modules_to_save.items.get(name);
    return new Map(copy ? copy.namedParametersWithDuplicates() : []);
  }
}
