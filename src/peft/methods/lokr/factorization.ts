/**
 * LyCORIS's `factorization` as HF PEFT 0.21 ships it: splits `dimension` into (m, n), m * n =
 * dimension. A positive `factor` that divides it gives (factor, dimension / factor) as is;
 * otherwise divisors are walked up from 1 while m < n and m stays <= factor (-1: no cap), and the
 * pair is returned smaller first. PEFT's copy never updates its `length` bound, so that check
 * never stops the walk; reproduced, since the factor shapes are part of the saved format.
 */
export function factorization(dimension: number, factor = -1): [number, number] {
  if (factor > 0 && dimension % factor === 0) return [factor, dimension / factor];
  const cap = factor === -1 ? dimension : factor;
  let m = 1,
    n = dimension;
  while (m < n) {
    let next = m + 1;
    while (dimension % next !== 0) next++;
    if (next > cap) break;
    m = next;
    n = dimension / next;
  }
  return m > n ? [n, m] : [m, n];
}
