import type { ChatScope } from "./scope";

/**
 * A question typed before its chat existed: the start screen creates the chat, leaves the
 * question here and navigates; the chat view takes it (once) and sends it.
 */
const pending = new Map<string, { text: string; scope: ChatScope }>();

export function leavePendingQuestion(chatId: string, text: string, scope: ChatScope): void {
  pending.set(chatId, { text, scope });
}

export function takePendingQuestion(chatId: string): { text: string; scope: ChatScope } | null {
  const question = pending.get(chatId) ?? null;
  pending.delete(chatId);
  return question;
}
