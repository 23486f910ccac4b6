-- Lists of all alerts and notices, newest first, walk these instead of sorting every row in scope.
CREATE INDEX alert_raised ON alert(raised_at);
CREATE INDEX supervision_notice_issued ON supervision_notice(issued_at);
