// Bundles the explorer and a self-hosted GraphiQL into graph_service/static/,
// so the Python package serves them with no network access at run time.
import { build } from "esbuild";
import { copyFileSync } from "node:fs";

const outdir = "../graph_service/static";
await build({
  entryPoints: { explorer: "src/explorer.js", graphiql: "src/graphiql.jsx" },
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outdir,
  legalComments: "linked",
  loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "info",
});
for (const page of ["explorer.html", "graphiql.html"]) {
  copyFileSync(`src/${page}`, `${outdir}/${page}`);
}
