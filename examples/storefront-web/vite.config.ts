import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Plain Vite: React's JSX is compiled by Vite itself (tsconfig's "jsx": "react-jsx"),
 * no plugin needed. The typed GraphQL documents live in the repository's
 * generated/client/ (npm run codegen at the root), outside this folder: the dev
 * server may read them.
 */
export default defineConfig({
  // Relative asset URLs: the build works from any path (a CDN folder, a test's static server).
  base: './',
  server: { port: 5173, fs: { allow: [repositoryRoot] } },
  preview: { port: 4173 },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 1500 },
});
