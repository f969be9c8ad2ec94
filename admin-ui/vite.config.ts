/**
 * The console's build (npm run ui:build → admin-ui/dist, served by the API) and dev server
 * (npm run ui:dev: hot reload, /api proxied to the running API).
 */
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig({
  root,
  plugins: [react()],
  resolve: {
    // The task schemas are shared with the API: the console validates with the very same zod schemas.
    alias: { '@schemas': path.resolve(root, '../api/tasks/schemas') },
  },
  build: { outDir: path.resolve(root, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 3000 },
  server: {
    port: Number(process.env.UI_PORT ?? 5173),
    proxy: { '/api': process.env.API_URL ?? 'http://127.0.0.1:3000' },
    fs: { allow: [path.resolve(root, '..')] },
  },
});
