import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/** The files beside the weights that make a model folder usable: tokenizer, chat template, generation settings. */
export const COMPANION_FILES =
  /^(generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|chat_template\.(jinja|json)|vocab\.(json|txt)|merges\.txt|[^/]*\.model)$/;

/** What a download fetches: config, safetensors weights (no pickles, ONNX or other formats) and the companions. */
const MODEL_FILES = (path: string) => /^(config\.json|model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json)$/.test(path) || COMPANION_FILES.test(path);

/** The hub cache folder, as huggingface_hub resolves it: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE || join(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface'), 'hub');
}

/** 'org/name' (or 'name'): letters, digits and -_. in each part, as hub repo ids. */
export function isHubId(name: string): boolean {
  return /^([\w.-]+\/)?[\w.-]+$/.test(name) && !name.startsWith('.') && !name.includes('..');
}

/**
 * The snapshot folder of a cached model: models--org--name/snapshots/<commit>, where a branch or
 * tag is first looked up in refs/<revision>. Null when the cache does not hold it.
 */
export function cachedModelDir(id: string, revision = 'main', cacheDir = hubCacheDir()): string | null {
  const repo = join(cacheDir, `models--${id.replace(/\//g, '--')}`);
  const ref = join(repo, 'refs', revision);
  const commit = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : /^[0-9a-f]{40}$/.test(revision) ? revision : null;
  if (!commit) return null;
  const snapshot = join(repo, 'snapshots', commit);
  return existsSync(join(snapshot, 'config.json')) ? snapshot : null;
}

/** Downloads a model's files into the hub cache (the same layout huggingface_hub writes) and returns the snapshot folder. */
async function downloadModel(id: string, revision: string, cacheDir: string): Promise<string> {
  const hub = await import('@huggingface/hub');
  const accessToken = process.env.HF_TOKEN || undefined;
  const files: string[] = [];
  for await (const entry of hub.listFiles({ repo: id, revision, accessToken })) if (entry.type === 'file' && MODEL_FILES(entry.path)) files.push(entry.path);
  if (!files.includes('config.json')) throw new ConfigError(`[hub] ${id} has no config.json at revision ${revision}.`, { hint: 'Is it a transformers model repository?' });
  let snapshot = '';
  for (const path of files) {
    const file = await hub.downloadFileToCacheDir({ repo: id, path, revision, cacheDir, accessToken });
    snapshot = file.slice(0, file.length - path.length - 1);
  }
  return snapshot;
}

/**
 * A model folder for `nameOrPath`: an existing local folder as is; otherwise a hub id looked up in
 * the hub cache (offline), and downloaded into it when absent and HF_HUB_OFFLINE is not set.
 */
export async function resolveModelDir(nameOrPath: string, options: { revision?: string; cacheDir?: string } = {}): Promise<string> {
  if (existsSync(nameOrPath)) return nameOrPath;
  const revision = options.revision ?? 'main';
  const cacheDir = options.cacheDir ?? hubCacheDir();
  if (!isHubId(nameOrPath))
    throw new ConfigError(`[model] ${nameOrPath} is neither a folder nor a hub id like 'org/name'.`, {
      hint: 'Point at a model folder (config.json, model.safetensors, tokenizer.json) or name a hub model.',
    });
  const cached = cachedModelDir(nameOrPath, revision, cacheDir);
  if (cached) return cached;
  const offline = ['1', 'true', 'yes', 'on'].includes(String(process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  if (offline)
    throw new ConfigError(`[model] ${nameOrPath} (revision ${revision}) is not in the hub cache ${cacheDir}, and HF_HUB_OFFLINE is set.`, {
      hint: 'Download it once online (or with huggingface-cli download), or point HF_HUB_CACHE/HF_HOME at the cache that holds it.',
    });
  try {
    return await downloadModel(nameOrPath, revision, cacheDir);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError(`[model] ${nameOrPath} is not a local folder, not in the hub cache ${cacheDir}, and could not be downloaded: ${(cause as Error).message}.`, {
      hint: 'Check the name and your connection, or set HF_HUB_CACHE/HF_HOME to a cache that holds it.',
      cause,
    });
  }
}
