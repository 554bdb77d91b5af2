-- Which kind of actor made each change: a signed-in person ('user'), the operator at the
-- command line or first-run setup ('operator'), a program with its own credentials
-- ('app'), or Portico applying a rule ('portico'). Events written before this column
-- existed are classified by what they recorded then: a person always had an id, and
-- Portico's rules signed as 'Portico'.
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT NOT NULL DEFAULT 'user'
    CHECK (actor_kind IN ('user', 'operator', 'app', 'portico'));
UPDATE audit_events SET actor_kind = CASE
    WHEN actor_id IS NOT NULL THEN 'user'
    WHEN actor_name = 'Portico' THEN 'portico'
    ELSE 'operator' END;
