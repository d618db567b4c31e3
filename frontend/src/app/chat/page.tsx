import type { Metadata } from "next";
import { Suspense } from "react";
import { RequireAuth } from "@/components/auth/require-auth";
import { ChatScreen } from "@/components/chat/chat-screen";
import { PageLoading } from "@/components/ui/spinner";

export const metadata: Metadata = { title: "Chat" };

export default function ChatPage() {
  return (
    <RequireAuth>
      {/* useSearchParams() (the ?id= of the conversation) needs a Suspense boundary in a static export. */}
      <Suspense fallback={<PageLoading />}>
        <ChatScreen />
      </Suspense>
    </RequireAuth>
  );
}
