/**
 * JavaScript regexes cannot be interrupted, and tokenizer.json regexes come from downloads.
 * HF's Rust tokenizers use a backtracking-bounded engine; here the patterns that can backtrack
 * exponentially are refused up front instead: a group repeated without bound ((...)+, (...)*,
 * (...){n,}) whose body itself repeats or alternates, as in (a+)+$ or (a|aa)*. Released
 * tokenizers' pre-tokenizer patterns (GPT-2, Llama 3, Qwen2, ...) never nest this way.
 */
export function catastrophicBacktracking(pattern: string): string | null {
  const groups: { start: number; risky: boolean }[] = [];
  let lastGroup: { start: number; risky: boolean } | null = null; // the group that just closed
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    const unbounded = ch === '+' || ch === '*' || (ch === '{' && /^\{\d*,\}/.test(pattern.slice(i)));
    const repeats = unbounded || ch === '?' || (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
    if (repeats) {
      const end = ch === '{' ? pattern.indexOf('}', i) : i;
      if (unbounded && lastGroup?.risky) return pattern.slice(lastGroup.start, end + 1);
      if (groups.length) groups[groups.length - 1].risky = true;
      lastGroup = null;
      i = end;
      continue;
    }
    lastGroup = null;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[') {
      // a class: skip to its closing bracket
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      continue;
    }
    if (ch === '(') {
      groups.push({ start: i, risky: false });
      // (?:  (?=  (?!  (?<=  (?<!  (?<name>  (?i:  -- the prefix is syntax, not a quantifier
      if (pattern[i + 1] === '?') {
        const prefix = /^\?(?:[:=!]|<[=!]|<[^>]*>|[a-zA-Z-]*:?)/.exec(pattern.slice(i + 1));
        i += prefix ? prefix[0].length : 1;
      }
    } else if (ch === '|' && groups.length) groups[groups.length - 1].risky = true;
    else if (ch === ')' && groups.length) {
      const group = groups.pop()!;
      lastGroup = group;
      if (group.risky && groups.length) groups[groups.length - 1].risky = true;
    }
  }
  return null;
}
