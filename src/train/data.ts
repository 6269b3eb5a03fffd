import { DataError, field, renderTemplate, type ChoiceItem, type SourcedRecord } from '../data/index.js';
import type { ChatMessage, HFTokenizer } from '../io/index.js';
import { encodePromptCompletion, type LMExample } from './batching.js';

export interface FieldMapping {
  /** Field holding the prompt (default 'prompt'), or a template such as "Q: {question}\nA:". */
  promptField?: string;
  template?: string;
  /** Field holding the completion (default 'completion'). */
  completionField?: string;
  /** Plain-text records: the loss is taken on the whole text. */
  textField?: string;
  /** Chat records: a list of {role, content}; the last message is the completion, the rest go through the chat template. */
  messagesField?: string;
}

export interface Encoded {
  examples: LMExample[];
  truncated: number;
}

function messages(record: SourcedRecord, name: string): ChatMessage[] {
  const value = record.fields[name];
  if (!Array.isArray(value) || value.length < 2 || !value.every((m) => m && typeof m.role === 'string' && typeof m.content === 'string')) {
    throw new DataError(`[data] ${record.file}:${record.line}: '${name}' must be a list of at least two {role, content} messages.`, 'The last message is the one learned.');
  }
  return value as ChatMessage[];
}

/**
 * Turns records into training examples with the loss on the completion only. Texts longer
 * than maxLength lose tokens from the start of the prompt; the count comes back in `truncated`.
 */
export function encodeRecords(records: SourcedRecord[], tokenizer: HFTokenizer, mapping: FieldMapping, maxLength: number): Encoded {
  let truncated = 0;
  const eos = tokenizer.eosTokenId;
  const examples = records.map((r) => {
    let prompt: string, completion: string;
    if (mapping.messagesField) {
      const list = messages(r, mapping.messagesField);
      prompt = tokenizer.applyChatTemplate(list.slice(0, -1), { addGenerationPrompt: true });
      completion = list[list.length - 1].content;
    } else if (mapping.textField) {
      prompt = '';
      completion = field(r, mapping.textField);
    } else {
      prompt = mapping.template ? renderTemplate(mapping.template, r) : field(r, mapping.promptField ?? 'prompt');
      completion = field(r, mapping.completionField ?? 'completion');
    }
    if (mapping.textField) {
      const ids = [...tokenizer.encode(completion, { addSpecialTokens: false }), ...(eos === undefined ? [] : [eos])];
      if (ids.length > maxLength) truncated++;
      const kept = ids.slice(0, maxLength);
      return { inputIds: kept, labels: kept };
    }
    const e = encodePromptCompletion(tokenizer, prompt, completion, maxLength, eos);
    if (e.truncated) truncated++;
    return { inputIds: e.inputIds, labels: e.labels };
  });
  return { examples, truncated };
}

/** Task items as training examples: the prompt, then the gold choice as the completion (no EOS: the choice is the answer). */
export function encodeChoiceItems(items: ChoiceItem[], tokenizer: HFTokenizer, maxLength: number): Encoded {
  let truncated = 0;
  const examples = items.map((item) => {
    const e = encodePromptCompletion(tokenizer, item.prompt, item.choices[item.gold], maxLength);
    if (e.truncated) truncated++;
    return { inputIds: e.inputIds, labels: e.labels };
  });
  return { examples, truncated };
}

/**
 * Records as classification examples: the text field tokenized (with the tokenizer's special
 * tokens, e.g. BERT's [CLS] ... [SEP]; cut to maxLength) and labels = [index of the label].
 * A label is an index into `labels` or one of its names.
 */
export function encodeClassificationRecords(
  records: SourcedRecord[],
  tokenizer: HFTokenizer,
  fields: { textField?: string; labelField?: string },
  labels: readonly string[],
  maxLength: number,
): Encoded {
  let truncated = 0;
  const labelField = fields.labelField ?? 'label';
  const examples = records.map((r) => {
    const ids = tokenizer.encode(field(r, fields.textField ?? 'text'));
    if (ids.length > maxLength) truncated++;
    const raw = r.fields[labelField];
    const k = typeof raw === 'number' ? raw : labels.indexOf(String(raw));
    if (!Number.isInteger(k) || k < 0 || k >= labels.length) {
      throw new DataError(
        `[data] ${r.file}:${r.line}: label ${JSON.stringify(raw)} in '${labelField}' is not one of ${labels.map((l, i) => `${i}=${l}`).join(', ')}.`,
        'Use a label index or name; --num-labels or the model config sets how many there are.',
      );
    }
    return { inputIds: ids.slice(0, maxLength), labels: [k] };
  });
  return { examples, truncated };
}

/**
 * The label names of classification records: the model's id2label when the data uses its names
 * (or indices), else the data's distinct values sorted (a new head, or generic LABEL_0 names).
 */
export function classificationLabels(records: SourcedRecord[], labelField = 'label', id2label?: Record<string, string>, numLabels?: number): string[] {
  const values = records.map((r) => r.fields[labelField]);
  const missing = records.find((r) => r.fields[labelField] === undefined);
  if (missing) throw new DataError(`[data] ${missing.file}:${missing.line}: missing field '${labelField}'.`, 'Every record needs a label (set --label-field).');
  const named =
    id2label && Object.keys(id2label).length
      ? Object.keys(id2label)
          .sort((a, b) => Number(a) - Number(b))
          .map((k) => id2label[k])
      : null;
  if (named && values.every((v) => typeof v === 'number' || named.includes(String(v)))) return named;
  if (values.every((v) => typeof v === 'number')) {
    const n = numLabels ?? Math.max(...(values as number[])) + 1;
    return Array.from({ length: n }, (_, i) => String(i));
  }
  return [...new Set(values.map(String))].sort();
}
