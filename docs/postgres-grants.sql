-- Step 3 of an issuer database on PostgreSQL (docs/deployment.md), run as issuer_owner in the
-- database after `issuer init` created the schema, and again after an issuer upgrade whose
-- migration added a table (it is idempotent):
--   psql postgres://issuer_owner@HOST/passes -f docs/postgres-grants.sql
--
-- issuer_app reads and writes applications, passes, keys and counters, and may only add to
-- the audit trail and the imported scans: it can neither change nor remove a line, nor drop or disable the trigger
-- that refuses such changes (only the owner could). Someone holding the web service's
-- credentials cannot rewrite history.

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO issuer_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO issuer_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM issuer_app;
-- Imported scans are evidence: added to, never changed.
REVOKE UPDATE, DELETE, TRUNCATE ON scans FROM issuer_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_version FROM issuer_app;
