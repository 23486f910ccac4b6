-- The core: the network, the catalogue, the calendar, users and access, the audit log.
-- Kept in step with migrations/postgres/0001_core.sql.

CREATE TABLE org_unit (
    code        TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES org_unit(code),
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    level       INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX org_unit_parent ON org_unit(parent_code);

CREATE TABLE service_window (
    id              TEXT PRIMARY KEY,
    venue_code      TEXT NOT NULL REFERENCES org_unit(code),
    department_code TEXT NOT NULL REFERENCES org_unit(code),
    name            TEXT NOT NULL,
    path            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX service_window_venue ON service_window(venue_code);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES org_unit(code),
    window_id       TEXT REFERENCES service_window(id),
    name            TEXT NOT NULL,
    position        TEXT NOT NULL,
    path            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX staff_department ON staff(department_code);

CREATE TABLE service_item (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES org_unit(code),
    legal_days      INTEGER NOT NULL CHECK (legal_days >= 1),
    promised_days   INTEGER NOT NULL CHECK (promised_days >= 1 AND promised_days <= legal_days),
    fee_cents       BIGINT NOT NULL CHECK (fee_cents >= 0),
    path            TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX service_item_department ON service_item(department_code);

CREATE TABLE calendar_year (
    year       INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    shipped    BOOLEAN NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE app_user (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE role_grant (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    org_code   TEXT NOT NULL REFERENCES org_unit(code),
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, role, org_code)
);

CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX user_session_user ON user_session(user_id);

CREATE TABLE login_failure (
    id        TEXT PRIMARY KEY,
    username  TEXT NOT NULL,
    client    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX login_failure_username ON login_failure(username, at);
CREATE INDEX login_failure_client ON login_failure(client, at);

CREATE TABLE api_key (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    org_code   TEXT NOT NULL REFERENCES org_unit(code),
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    path      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
