"""Hand-written SQL of chats: full-text search over a user's conversations."""

from __future__ import annotations

from sqlalchemy import TextClause, text

# ts_headline marks matches with these; they are removed from the text it reads first, so
# every marker in a headline is one ts_headline put there.
MATCH_START = "\x02"
MATCH_END = "\x03"
# ts_headline's parser drops what looks like an HTML tag: "<" and ">" stand in as these
# private-use characters while it reads (and any already there are removed).
ANGLE_STAND_INS = {"\ue000": "<", "\ue001": ">"}
HEADLINE_OPTIONS = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=24, MinWords=12, "
    "MaxFragments=1, ShortWord=2"
)


def search_chats() -> TextClause:
    """Chats of :user_id whose title or a message matches :q (websearch syntax: words,
    "a phrase", -excluded, or), best match first, each with a highlighted headline of its
    best-matching text (a message before the title, which usually repeats the first
    question; the title only when no message matches); only archived chats with :archived, only the others without. Uses
    the GIN indexes on to_tsvector('english', content | title)."""
    return text(
        """
WITH query AS (SELECT websearch_to_tsquery('english', :q) AS tsq),
hits AS (
    SELECT m.chat_id, m.id AS message_id, m.role, m.content AS body,
           ts_rank(to_tsvector('english', m.content), query.tsq) AS rank
    FROM chat_messages m, query
    WHERE m.user_id = :user_id AND to_tsvector('english', m.content) @@ query.tsq
    UNION ALL
    SELECT c.id, NULL, 'title', c.title,
           0.5 * ts_rank(to_tsvector('english', c.title), query.tsq)
    FROM chats c, query
    WHERE c.user_id = :user_id AND to_tsvector('english', c.title) @@ query.tsq
),
best AS (
    SELECT DISTINCT ON (chat_id) chat_id, message_id, role, body, rank
    FROM hits
    ORDER BY chat_id, rank DESC, message_id
),
page AS (
    SELECT best.*, c.updated_at
    FROM best JOIN chats c ON c.id = best.chat_id
    WHERE c.user_id = :user_id AND (c.archived_at IS NOT NULL) = :archived
    ORDER BY best.rank DESC, c.updated_at DESC, c.id
    LIMIT :limit OFFSET :offset
)
SELECT page.chat_id, page.message_id, page.role, page.body,
       ts_headline(
           'english', translate(page.body, :translated, :stand_ins), query.tsq, :options
       ) AS headline
FROM page, query
ORDER BY page.rank DESC, page.updated_at DESC, page.chat_id
"""
    ).bindparams(
        # "<", ">" become the stand-ins; the markers and stand-ins already in the text go.
        translated="<>" + "".join(ANGLE_STAND_INS) + MATCH_START + MATCH_END,
        stand_ins="".join(ANGLE_STAND_INS),
        options=HEADLINE_OPTIONS,
    )
