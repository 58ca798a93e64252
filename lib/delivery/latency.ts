/**
 * At most `max` of `values`, spread evenly over their sorted order (the smallest and the largest always
 * among them), so a job's latencies fit one metric line and keep their shape for the percentiles.
 */
export function evenSample(values: readonly number[], max: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  if (max <= 0) return [];
  if (max === 1) return [sorted[sorted.length - 1]!];
  const last = sorted.length - 1;
  return Array.from({ length: max }, (_, i) => sorted[Math.round((i * last) / (max - 1))]!);
}
