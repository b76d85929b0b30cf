import { defineConfig } from 'vitest/config';

// `npm run test:compose`: the Docker Compose stack run for real (test/compose.stack.ts). Not part
// of `npm test` (its own config, its file is not a *.test.ts): it needs a Docker engine, builds
// the image and takes minutes. One file, its steps in order, stopping at the first failure (the
// later steps build on the earlier ones); the clean-up runs either way. docs/docker.md.
export default defineConfig({
  test: {
    include: ['test/compose.stack.ts'],
    fileParallelism: false,
    bail: 1,
    testTimeout: 900_000,
    hookTimeout: 3_600_000,
    reporters: ['verbose'],
  },
});
