import type { ReactNode } from "react";

export function ErrorAlert({ children, className = "" }: { children: ReactNode; className?: string }) {
  return (
    <div role="alert" className={`rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 ${className}`}>
      {children}
    </div>
  );
}
