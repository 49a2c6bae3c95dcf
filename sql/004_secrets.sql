-- Secrets the site keeps: random keys made by the server at first use
-- (libsodium's randombytes), never exported with the site file. 'csrf'
-- signs the CSRF tokens of forms.
CREATE TABLE park_secrets (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL CHECK (length(value) = 32)
);
