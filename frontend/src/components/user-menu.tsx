"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import type { User } from "@/lib/api";
import { useAuth } from "./auth/auth-provider";

function initialsOf(user: User): string {
  const source = user.full_name.trim() || user.email;
  const parts = source.split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? `${parts[0]?.[0] ?? ""}${parts[parts.length - 1]?.[0] ?? ""}` : source.slice(0, 2);
  return letters.toUpperCase();
}

/** Account button with a small disclosure menu (name, email, sign out); Escape closes it and returns to the button. */
export function UserMenu({ user }: { user: User }) {
  const { signOut } = useAuth();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const menuId = useId();
  const containerRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!containerRef.current?.contains(event.target as Node)) setOpen(false);
    };
    // In the capture phase, before the page's own Escape handlers, which then leave it alone.
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener("pointerdown", onPointerDown);
    document.addEventListener("keydown", onKeyDown, { capture: true });
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
      document.removeEventListener("keydown", onKeyDown, { capture: true });
    };
  }, [open]);

  const handleSignOut = async () => {
    setSigningOut(true);
    try {
      await signOut();
    } finally {
      router.replace("/login/");
    }
  };

  return (
    <div ref={containerRef} className="relative">
      <button
        ref={buttonRef}
        type="button"
        className="flex items-center gap-2 rounded-full py-1 pl-1 pr-2 text-sm text-slate-800 hover:bg-slate-100"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((value) => !value)}
      >
        <span aria-hidden="true" className="grid h-8 w-8 place-items-center rounded-full bg-slate-800 text-xs font-semibold text-white">
          {initialsOf(user)}
        </span>
        <span className="hidden max-w-40 truncate sm:inline">{user.full_name || user.email}</span>
        <span className="sr-only">Account menu</span>
      </button>
      {open ? (
        <div id={menuId} className="card absolute right-0 mt-2 w-64 p-3">
          <p className="truncate text-sm font-medium text-slate-900">{user.full_name}</p>
          <p className="truncate text-sm text-slate-600">{user.email}</p>
          <hr className="my-3 border-slate-200" />
          <Link href="/settings/" className="btn-secondary mb-2 flex w-full justify-center" onClick={() => setOpen(false)}>
            Settings
          </Link>
          <button type="button" className="btn-secondary w-full" onClick={handleSignOut} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      ) : null}
    </div>
  );
}
