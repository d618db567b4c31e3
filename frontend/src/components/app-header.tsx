"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { isAdmin } from "@/lib/admin";
import { APP_NAME } from "@/lib/config";
import { useAuth } from "./auth/auth-provider";
import { UserMenu } from "./user-menu";

const NAV_ITEMS = [
  { href: "/chat/", label: "Chat" },
  { href: "/library/", label: "Library" },
  { href: "/groups/", label: "Groups" },
] as const;
const ADMIN_ITEM = { href: "/admin/", label: "Admin" } as const;

export function AppHeader() {
  const { status, user } = useAuth();
  const pathname = usePathname();
  const signedIn = status === "signedIn" && user !== null;

  return (
    <header className="sticky top-0 z-30 border-b border-slate-200 bg-white">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-3 px-3 sm:px-5">
        <Link href={signedIn ? "/chat/" : "/"} className="flex items-center gap-2 font-semibold text-slate-900">
          <span aria-hidden="true" className="grid h-7 w-7 place-items-center rounded-md bg-blue-700 text-sm text-white">
            D
          </span>
          {APP_NAME}
        </Link>
        {signedIn ? (
          <>
            <nav aria-label="Main" className="ml-2 flex items-center gap-1">
              {[...NAV_ITEMS, ...(isAdmin(user) ? [ADMIN_ITEM] : [])].map((item) => {
                const active = pathname?.startsWith(item.href.replace(/\/$/, "")) ?? false;
                return (
                  <Link
                    key={item.href}
                    href={item.href}
                    aria-current={active ? "page" : undefined}
                    className={`rounded-md px-3 py-1.5 text-sm font-medium ${
                      active ? "bg-blue-50 text-blue-800" : "text-slate-700 hover:bg-slate-100"
                    }`}
                  >
                    {item.label}
                  </Link>
                );
              })}
            </nav>
            <div className="ml-auto">
              <UserMenu user={user} />
            </div>
          </>
        ) : null}
      </div>
    </header>
  );
}
