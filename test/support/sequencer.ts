// The order the files start in (docs/testing.md, "How long the suite takes"). Vitest starts the
// files that took longest last time first, from its results cache; a clean clone (CI) has no
// cache, and then Vitest goes by file size, which puts the Redis Cluster files (a few lines that
// run another file's tests) last although each takes 20-30 s: the suite ended on them. Until every
// file has a time in the cache, the files known to be long start first, in this order; the rest
// keep Vitest's order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first: the demo's tour waits on the demo's real clock (minutes). */
export const LONG_FILES: readonly RegExp[] = [
  /\/test\/demo\.test\.ts$/,
  /\.cluster\.test\.ts$/,
  /[/.]browser\.[\w.-]*test\.ts$/,
  /\.e2e\.test\.ts$/,
];

/** Where `file` goes among LONG_FILES (their count when it is none of them). */
export function longRank(file: string): number {
  const rank = LONG_FILES.findIndex((pattern) => pattern.test(file.replaceAll('\\', '/')));
  return rank === -1 ? LONG_FILES.length : rank;
}

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const timed = files.every((spec) => this.ctx.cache.getTestSpecificationResult(spec) !== undefined);
    if (timed) return sorted;
    return sorted
      .map((spec, index) => ({ spec, index, rank: longRank(spec.moduleId) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
