-- The press summary an operation's lead edited from the debrief's draft
-- (empty until then: the draft is drawn from the records each time).
ALTER TABLE operations ADD COLUMN press_summary TEXT;

-- What a session was opened on, in words ("Chrome on Android"), so that a
-- lost phone's session can be told apart from the others and ended.
ALTER TABLE staff_sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
