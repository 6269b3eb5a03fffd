import { AutogradError, formatShape } from '../errors.js';
import type { Tensor } from './tensor.js';

/** How an op's output hands its gradient back to its inputs (null: that input gets none). */
export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: BackwardFn;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording a graph: for inference, optimiser steps and backward itself. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Attaches a graph node to an op's output when any input needs a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: a deep model (many layers of many ops) would overflow a recursive one.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}

/**
 * Reverse-mode differentiation from `root`. Leaves that require a gradient accumulate it in
 * `.grad`; the graph is freed afterwards unless retainGraph is set.
 */
export function backward(root: Tensor, grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
  if (!root.requiresGrad) {
    throw new AutogradError('[backward] this tensor does not require grad and has no graph.', 'Set requiresGrad on the parameters before computing the output, and do not compute it inside noGrad().');
  }
  if (!grad) {
    if (root.size !== 1) {
      throw new AutogradError(
        `[backward] called on a tensor of shape ${formatShape(root.shape)} without a gradient.`,
        'Reduce it to a scalar (e.g. .mean()) or pass the output gradient: backward(grad).',
      );
    }
    grad = root.onesLike();
  } else if (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i])) {
    throw new AutogradError(`[backward] gradient of shape ${formatShape(grad.shape)} does not match the output's ${formatShape(root.shape)}.`, 'Pass a gradient with the same shape as the tensor.');
  }
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      grads.delete(t);
      if (!g) continue;
      const node = t.node;
      if (!node) {
        t.grad = t.grad ? t.grad.add(g) : g.clone();
        continue;
      }
      const inputGrads = node.backward(g);
      node.inputs.forEach((input, k) => {
        const ig = inputGrads[k];
        if (!ig || !input.requiresGrad) return;
        const previous = grads.get(input);
        grads.set(input, previous ? previous.add(ig) : ig);
      });
      if (!options.retainGraph) t.node = freedNode(node.op);
    }
  });
}

function freedNode(op: string): GradNode {
  return {
    op,
    inputs: [],
    backward: () => {
      throw new AutogradError(`[backward] the graph through '${op}' was already freed.`, 'Pass { retainGraph: true } to the first backward() to call it twice.');
    },
  };
}
