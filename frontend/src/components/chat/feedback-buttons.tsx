"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { errorMessage, type ChatDetail, type Feedback } from "@/lib/api";
import type { DocChatMessage } from "@/lib/chat/messages";
import { chatKey, useRateAnswer } from "@/hooks/use-chats";

type Rating = 1 | -1;

/** A thumb drawn as SVG (emoji fonts are missing on many Linux desktops); down is up turned over. */
function Thumb({ down }: { down: boolean }) {
  return (
    <svg viewBox="0 0 24 24" className={`h-4 w-4 ${down ? "rotate-180" : ""}`} aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M7 10v12H3V10zM7 10l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.4 9A2 2 0 0 1 18.1 22H7" />
    </svg>
  );
}

/** The rating stored with the chat (GET /chats/{id}), for an answer loaded from it. */
function storedFeedback(detail: ChatDetail | undefined, messageId: string): Feedback | null {
  return detail?.messages.find((message) => message.id === messageId)?.feedback ?? null;
}

/**
 * Thumbs up / down under an answer, with an optional comment. Selecting the chosen thumb again
 * clears the rating. The open chat's id comes from the page address (`/chat/?id=…`).
 */
export function FeedbackButtons({ message, chatId }: { message: DocChatMessage; chatId: string }) {
  if (message.role !== "assistant") return null;
  return <FeedbackControls chatId={chatId} messageId={message.id} />;
}

export function FeedbackControls({ chatId, messageId }: { chatId: string; messageId: string }) {
  const queryClient = useQueryClient();
  const [feedback, setFeedback] = useState<Feedback | null>(() =>
    storedFeedback(queryClient.getQueryData<ChatDetail>(chatKey(chatId)), messageId),
  );
  const [commenting, setCommenting] = useState(false);
  const [comment, setComment] = useState(feedback?.comment ?? "");
  const [thanks, setThanks] = useState("");
  const rate = useRateAnswer(chatId, messageId);
  const commentId = useId();

  const save = (rating: Rating | null, withComment?: string) => {
    rate.mutate(rating === null ? null : { rating, comment: withComment?.trim() || null }, {
      onSuccess: (saved) => {
        setFeedback(saved);
        setThanks(saved === null ? "Rating removed." : "Thanks for your feedback.");
        // The cached chat keeps the rating, for when this answer is shown again.
        queryClient.setQueryData<ChatDetail>(chatKey(chatId), (detail) =>
          detail
            ? { ...detail, messages: detail.messages.map((stored) => (stored.id === messageId ? { ...stored, feedback: saved } : stored)) }
            : detail,
        );
      },
    });
  };

  const choose = (rating: Rating) => {
    if (feedback?.rating === rating) {
      setCommenting(false);
      save(null);
      return;
    }
    save(rating, comment);
    setCommenting(true);
  };

  const submitComment = (event: FormEvent) => {
    event.preventDefault();
    if (feedback) save(feedback.rating as Rating, comment);
    setCommenting(false);
  };

  const thumb = (rating: Rating, label: string) => (
    <button
      type="button"
      className={`rounded-md border px-2 py-0.5 text-sm ${
        feedback?.rating === rating ? "border-blue-700 bg-blue-50 text-blue-900" : "border-slate-300 text-slate-700 hover:bg-slate-100"
      }`}
      aria-pressed={feedback?.rating === rating}
      onClick={() => choose(rating)}
      disabled={rate.isPending}
    >
      <Thumb down={rating === -1} />
      <span className="sr-only">{label}</span>
    </button>
  );

  return (
    <div className="mt-2 space-y-2" data-testid="feedback">
      <div className="flex items-center gap-2">
        <span className="text-xs text-slate-600">Was this answer helpful?</span>
        {thumb(1, "Good answer")}
        {thumb(-1, "Bad answer")}
        <span role="status" className="text-xs text-slate-600">
          {rate.isError ? <span className="text-red-700">{errorMessage(rate.error)}</span> : thanks}
        </span>
      </div>
      {commenting && feedback ? (
        <form onSubmit={submitComment} className="space-y-1">
          <label htmlFor={commentId} className="block text-xs font-medium text-slate-700">
            {feedback.rating === -1 ? "What was wrong with it? (optional)" : "What was good about it? (optional)"}
          </label>
          <textarea
            id={commentId}
            className="input min-h-16 text-sm"
            maxLength={4000}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
          <div className="flex gap-2">
            <button type="submit" className="btn-secondary text-xs" disabled={rate.isPending}>
              Send comment
            </button>
            <button type="button" className="btn-ghost text-xs" onClick={() => setCommenting(false)}>
              Skip
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
