/** One figure a benchmark reports; `ratio` compares it with a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  details?: Record<string, unknown>;
}

/** Print a result in the line format `pnpm bench` collects. */
export function report(result: BenchResult): void {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}
