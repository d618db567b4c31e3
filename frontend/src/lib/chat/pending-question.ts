/**
 * A question typed before its chat existed: the start screen creates the chat, leaves the
 * question here and navigates; the chat view takes it (once) and sends it.
 */
const pending = new Map<string, { text: string; documentIds: string[] }>();

export function leavePendingQuestion(chatId: string, text: string, documentIds: string[]): void {
  pending.set(chatId, { text, documentIds });
}

export function takePendingQuestion(chatId: string): { text: string; documentIds: string[] } | null {
  const question = pending.get(chatId) ?? null;
  pending.delete(chatId);
  return question;
}
