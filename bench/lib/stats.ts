// Small statistics helpers for the benchmarks: medians of per-round figures, so that
// one noisy round on a shared machine does not move the result.

/**
 * The median of a list of numbers.
 *
 * @param values - The numbers; left unchanged.
 * @returns The median, or `NaN` for an empty list.
 */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * The median over rounds of a figure taken within each round from two series measured
 * in the same rounds: `f(a[i], b[i])` for every round `i` both have.
 *
 * @param a - One series, one entry per round.
 * @param b - The other, in the same round order.
 * @param f - The figure of one round.
 * @returns The median of the finite figures, or `NaN` when there is none (no round has both).
 */
export function pairedMedian<A, B>(a: readonly A[], b: readonly B[], f: (a: A, b: B) => number): number {
  const length = Math.min(a.length, b.length);
  return median(Array.from({ length }, (_, i) => f(a[i]!, b[i]!)));
}

/**
 * A quantile by linear interpolation between the closest ranks.
 *
 * @param values - The numbers; left unchanged.
 * @param q - Between 0 and 1.
 * @returns The quantile, or `NaN` for an empty list.
 */
function quantile(values: readonly number[], q: number): number {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) {
    return Number.NaN;
  }
  const sorted = [...finite].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/**
 * Shuffles a copy of a list (Fisher–Yates), so that no case always runs first or last
 * in a round.
 *
 * @param items - The list; left unchanged.
 * @returns A shuffled copy.
 */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Rounds for display.
 *
 * @param value - The number.
 * @param digits - Significant digits.
 * @returns The number with that many significant digits, as a number.
 */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) {
    return value;
  }
  return Number(value.toPrecision(digits));
}
