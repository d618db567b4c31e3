import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { AppHeader } from "@/components/app-header";
import { Providers } from "@/components/providers";
import { API_BASE_URL, APP_NAME } from "@/lib/config";
import { contentSecurityPolicy } from "@/lib/csp";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: APP_NAME, template: `%s · ${APP_NAME}` },
  description: "Ask questions about your documents and get answers with citations.",
  referrer: "strict-origin-when-cross-origin",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#1d4ed8",
};

const csp = contentSecurityPolicy(API_BASE_URL, process.env.NODE_ENV === "development");

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta httpEquiv="Content-Security-Policy" content={csp} />
      </head>
      <body className="flex min-h-dvh flex-col">
        <a href="#main" className="sr-only-focusable absolute left-2 top-2 z-50 rounded bg-white px-3 py-2 shadow">
          Skip to content
        </a>
        <Providers>
          <AppHeader />
          <main id="main" className="flex min-h-0 flex-1 flex-col">
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
