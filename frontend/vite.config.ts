import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser only ever talks to its own origin: nginx (production) or this dev server's
// proxy routes /api/ to admin-svc and /flask/ to main-svc. No host is baked into the build.
export default defineConfig({
  base: '/',
  plugins: [react()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: 'http://127.0.0.1:8000', changeOrigin: false },
      '/flask': { target: 'http://127.0.0.1:5000', changeOrigin: false },
    },
  },
  preview: {
    host: '127.0.0.1',
    port: 4173,
    proxy: {
      '/api': { target: 'http://127.0.0.1:8000' },
      '/flask': { target: 'http://127.0.0.1:5000' },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // Keep every asset a file under /assets/ (no data: URIs inlined into JS/CSS).
    assetsInlineLimit: 0,
  },
});
