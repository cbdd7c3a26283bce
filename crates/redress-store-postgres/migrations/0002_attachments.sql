-- Attachment content, stored once per distinct file (content-addressed by SHA-256).
CREATE TABLE attachments (
    sha256     TEXT COLLATE "C" PRIMARY KEY,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    content    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
