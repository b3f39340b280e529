import { defineConfig } from "vite";

// The build goes to dist/, which app.go embeds. public/.gitkeep is copied there so the tracked
// placeholder survives emptyOutDir (a fresh checkout must compile before the front end is built).
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
  },
  server: { strictPort: true },
});
