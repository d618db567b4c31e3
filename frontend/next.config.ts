import type { NextConfig } from "next";

// Static export: `next build` writes plain files to out/, served by FastAPI (one-process
// setup) or by Vercel. Dynamic ids live in the query string (/chat/?id=...), and
// trailingSlash makes /chat/ resolve to out/chat/index.html on any static server.
const nextConfig: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
