-- Failed logins are kept only for the throttling window: each attempt deletes those older, by time.
CREATE INDEX login_failure_at ON login_failure(at);
