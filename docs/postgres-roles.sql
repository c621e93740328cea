-- Step 1 of an issuer database on PostgreSQL (docs/deployment.md): two roles and the
-- database. Run as a superuser, with psql variables for the passwords:
--   psql -v owner_password=... -v app_password=... -f docs/postgres-roles.sql
-- Step 2: `issuer init --db postgres://issuer_owner@HOST/passes` creates the schema.
-- Step 3: docs/postgres-grants.sql, as issuer_owner, gives issuer_app its rights.
--
-- issuer_owner owns the tables and runs migrations (once per new issuer version).
-- issuer_app is what every issuer process and the web service use day to day.

CREATE ROLE issuer_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE issuer_app LOGIN PASSWORD :'app_password';
CREATE DATABASE passes OWNER issuer_owner ENCODING 'UTF8' TEMPLATE template0;
\connect passes
ALTER SCHEMA public OWNER TO issuer_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO issuer_app;
