import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError } from '../errors.js';

export interface ChatMessage { role: string; content: string }

function readJson(path: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new ConfigError(`[tokenizer] ${path} is not valid JSON.`, { hint: 'Re-export the tokenizer files.', cause });
  }
}

export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/** A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) with its special tokens and chat template. */
export class HFTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(readonly json: Record<string, any>, readonly config: Record<string, any> = {}) {
    this.tokenizer = new Tokenizer(json, config);
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

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  tokenToId(token: string): number | undefined { return this.tokenizer.token_to_id(token); }

  private special(name: string): number | undefined {
    const content = tokenContent(this.config[name]);
    return content === undefined ? undefined : this.tokenToId(content);
  }
  get eosTokenId(): number | undefined { return this.special('eos_token'); }
  get bosTokenId(): number | undefined { return this.special('bos_token'); }
  get padTokenId(): number | undefined { return this.special('pad_token'); }

  /** Renders messages with the tokenizer's chat_template (Jinja), as transformers' apply_chat_template. */
  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    const source = this.config.chat_template;
    if (typeof source !== 'string') throw new ConfigError('[tokenizer] neither chat_template.jinja nor tokenizer_config.json holds a chat template.', { hint: 'Use a prompt template instead, or a model with a chat template.' });
    return new Template(source).render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: tokenContent(this.config.bos_token) ?? '',
      eos_token: tokenContent(this.config.eos_token) ?? '',
    });
  }
}
