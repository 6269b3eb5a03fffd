import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError, PeftTsError } from '../errors.js';
import { ChatTemplate } from './chat-template.js';
import { catastrophicBacktracking } from './regex-safety.js';
import { readTextFile } from '../files.js';

export interface ChatMessage {
  role: string;
  content: string;
}

function readJson(path: string): Record<string, any> {
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[tokenizer] ${path} ${problem}.`, { hint: 'Re-export the tokenizer files.', cause }));
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new ConfigError(`[tokenizer] ${path} is not valid JSON.`, { hint: 'Re-export the tokenizer files.', cause });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`[tokenizer] ${path} is not a JSON object.`, { hint: 'Re-export the tokenizer files.' });
  return value as Record<string, any>;
}

export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/** Runs a call into the tokenizer library: its errors (on a malformed tokenizer.json) become ConfigErrors. */
function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof PeftTsError) throw cause;
    throw new ConfigError(
      `[tokenizer] ${what} failed: ${String((cause as Error)?.message ?? cause)
        .split('\n')[0]
        .slice(0, 200)}.`,
      { hint: 'tokenizer.json is malformed or of an unsupported kind: re-export it with transformers (save_pretrained).', cause },
    );
  }
}

/** Every {"Regex": ...} pattern in tokenizer.json (normalizers, pre-tokenizers, decoders) is checked before it is compiled. */
function refuseRiskyRegexes(value: unknown, path = 'tokenizer.json', seen = new Set<unknown>()): void {
  if (!value || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  for (const [key, child] of Object.entries(value)) {
    if (key === 'vocab' || key === 'merges') continue; // data, not patterns (and large)
    if (key === 'Regex' && typeof child === 'string') {
      const nested = catastrophicBacktracking(child);
      if (nested) {
        throw new ConfigError(`[tokenizer] ${path} holds the regex ${JSON.stringify(child.slice(0, 80))}, whose part ${JSON.stringify(nested)} can backtrack without limit.`, {
          hint: 'peft-ts refuses repeated groups that themselves repeat or alternate (e.g. (a+)+), which can hang on some inputs; released tokenizers do not use them.',
        });
      }
    } else refuseRiskyRegexes(child, `${path}.${key}`, seen);
  }
}

/** A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) with its special tokens and chat template. */
export class HFTokenizer {
  private readonly tokenizer: Tokenizer;

  private chatTemplate: ChatTemplate | null = null;

  constructor(
    readonly json: Record<string, any>,
    readonly config: Record<string, any> = {},
  ) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError('[tokenizer] tokenizer.json is not a JSON object.', { hint: 'Re-export the tokenizer files.' });
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new ConfigError('[tokenizer] tokenizer_config.json is not a JSON object.', { hint: 'Re-export the tokenizer files.' });
    refuseRiskyRegexes(json);
    this.tokenizer = guard('load', () => new Tokenizer(json, config));
  }

  static fromDir(dir: string): HFTokenizer {
    const path = join(dir, 'tokenizer.json');
    if (!existsSync(path)) throw new ConfigError(`[tokenizer] ${path} not found.`, { hint: 'The model folder needs tokenizer.json (the fast-tokenizer file HF writes with save_pretrained).' });
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? readJson(configPath) : {};
    // transformers >= 4.43 saves the chat template beside the config, and that file wins over the config's field.
    const templatePath = join(dir, 'chat_template.jinja');
    if (existsSync(templatePath)) config.chat_template = readFileSync(templatePath, 'utf8');
    return new HFTokenizer(readJson(path), config);
  }

  /** Token ids of `text`; an id the vocabulary cannot name (a broken tokenizer.json) is an error, never a silent NaN. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const ids: unknown[] = guard('encode', () => this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids);
    const bad = ids.find((id) => !Number.isSafeInteger(id) || (id as number) < 0);
    if (bad !== undefined)
      throw new ConfigError(`[tokenizer] tokenizer.json maps part of the text to ${JSON.stringify(bad)}, not a token id.`, {
        hint: 'The vocabulary has no entry (or no unk_token) for it: re-export the tokenizer files.',
      });
    return ids as number[];
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return guard('decode', () => this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? true }));
  }

  tokenToId(token: string): number | undefined {
    const id = guard('lookup', () => this.tokenizer.token_to_id(token));
    return Number.isSafeInteger(id) && (id as number) >= 0 ? id : undefined;
  }

  private special(name: string): number | undefined {
    const content = tokenContent(this.config[name]);
    return content === undefined ? undefined : this.tokenToId(content);
  }
  get eosTokenId(): number | undefined {
    return this.special('eos_token');
  }
  get bosTokenId(): number | undefined {
    return this.special('bos_token');
  }
  get padTokenId(): number | undefined {
    return this.special('pad_token');
  }

  /** Renders messages with the tokenizer's chat_template (Jinja), as transformers' apply_chat_template. */
  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    const source = this.config.chat_template;
    if (typeof source !== 'string')
      throw new ConfigError('[tokenizer] neither chat_template.jinja nor tokenizer_config.json holds a chat template.', { hint: 'Use a prompt template instead, or a model with a chat template.' });
    this.chatTemplate ??= new ChatTemplate(source);
    return this.chatTemplate.render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: tokenContent(this.config.bos_token) ?? '',
      eos_token: tokenContent(this.config.eos_token) ?? '',
    });
  }
}
