"""Administration: accounts, their usage and quotas, registration and invites, the audit log.
Admins manage accounts, not content: nothing here reads a document's or a chat's content."""
